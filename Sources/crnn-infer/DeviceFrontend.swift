// The device frontend used by every command: the fixed-point MFCC of CRNNRuntime.
//
// NOT WIRED YET: the fixed-point MFCC is being written on branch `mfcc`. Until it is merged, this build has
// no frontend and every command that needs features stops with a message (exit 2). Nothing is stubbed.

import CRNNRuntime

struct DeviceExtractor: SegmentFeatureExtractor {
    mutating func extract(segment: UnsafeBufferPointer<Int16>, into features: UnsafeMutableBufferPointer<Int32>) {
        fatalError("unreachable: makeDeviceExtractor never returns one")
    }
}

func makeDeviceExtractor(_ m: LoadedModel, err: Output) throws(Exit) -> DeviceExtractor {
    err.put("crnn-infer: this build has no fixed-point MFCC yet (branch mfcc not merged): cannot compute features\n")
    throw .badInput
}
