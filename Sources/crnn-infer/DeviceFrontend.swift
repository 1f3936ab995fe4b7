// The device frontend used by every command: the fixed-point MFCC of CRNNRuntime, with the tables of the
// model file's frontend section.

import CRNNRuntime

typealias DeviceExtractor = FixedPointMFCCExtractor

func makeDeviceExtractor(_ m: LoadedModel, err: Output) throws(Exit) -> DeviceExtractor {
    do throws(ModelError) { return try FixedPointMFCCExtractor(model: m.model) } catch {
        fileError(err, m.path, error.message)
        throw .badInput
    }
}
