// inputQuantizeS8: the model's per-coefficient input standardisation (x - mean_c) / std_c fused with the
// per-tensor int8 input quantization, in integer arithmetic. Reference.

/// The fixed-point MFCC representation the runtime's frontend produces and this kernel consumes:
/// Int32 in units of 2^-8 MFCC units ("Q23.8"; librosa's MFCC values are dB-scaled, |x| < 2^15 in practice).
let mfccFractionBits: Int32 = 8

/// Shapes and quantization of an `inputQuantizeS8` call: features [frames, coefficients] Int32 Q23.8 (row =
/// frame); mean [coefficients] Int32 Q23.8 (round(mean_c * 256)); requant [coefficients] with real value
/// 1 / (256 * std_c * input_scale) (the quantizer computes it); output [frames, coefficients] int8 with zero
/// point `outputZeroPoint` (-128...127).
struct InputQuantizeS8Params {
    var frames: Int, coefficients: Int
    var outputZeroPoint: Int32
    init(frames: Int, coefficients: Int, outputZeroPoint: Int32) {
        self.frames = frames; self.coefficients = coefficients; self.outputZeroPoint = outputZeroPoint
    }
}

/// Scratch bytes `inputQuantizeS8` needs: none.
func inputQuantizeS8ScratchSize(_ p: InputQuantizeS8Params) -> Int { 0 }

/// out[t, c] = saturate8(z_out + MBQM(saturate32(features[t, c] - mean[c]), m[c], s[c])).
/// Example: feature 1280 (5.0), mean 256 (1.0), multiplier 2^30 with shift -1 (0.25), z_out -3: -3 + 256 = 253
/// saturates to 127; with shift -9 (2^-10): -3 + 1 = -2.
func inputQuantizeS8(_ p: InputQuantizeS8Params, features: UnsafeBufferPointer<Int32>,
                            mean: UnsafeBufferPointer<Int32>, requant: ChannelRequant,
                            output: UnsafeMutableBufferPointer<Int8>, scratch: UnsafeMutableRawBufferPointer) {
    let T = p.frames, F = p.coefficients
    precondition(features.count >= T * F && output.count >= T * F && mean.count >= F
                 && requant.multipliers.count >= F && requant.shifts.count >= F)
    var i = 0
    for _ in 0..<T {
        for c in 0..<F {
            let d = saturatingInt32(Int64(features[i]) - Int64(mean[c]))
            output[i] = saturatingInt8(saturatingInt32(Int64(p.outputZeroPoint) + Int64(requant.apply(d, c))))
            i &+= 1
        }
    }
}
