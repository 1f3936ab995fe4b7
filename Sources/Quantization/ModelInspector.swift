// `crnn-quantize inspect`: a human-readable dump of a model file, read through CRNNRuntime's validating reader.
import CRNNRuntime
import Foundation

public enum ModelInspector {
    /// Validates `bytes` with `ModelFile` and describes header, sections, tensors (shape, type, zero point,
    /// scales), operators, labels and feature configuration. Throws the reader's typed error on a bad file.
    public static func describe(_ bytes: [UInt8]) throws(CRNNRuntime.ModelError) -> String {
        let aligned = AlignedModelBytes(bytes)
        let m = try ModelFile(bytes: aligned.raw)
        return describe(m)
    }

    /// The operator's name: the runtime's own (each operator file names itself).
    package static func opName(_ op: OpCode) -> String { op.name.description }

    static func typeName(_ t: TensorType) -> String { t == .int8 ? "int8" : t == .int16 ? "int16" : "int32" }

    static func real(_ m: Int32, _ s: Int32) -> Double { Double(m) * pow(2, Double(s) - 31) }

    public static func describe(_ m: ModelFile) -> String {
        let b = m.bytes
        func u32(_ o: Int) -> UInt32 { b.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian }
        var out: [String] = []
        out.append("header: format \(m.versionMajor).\(m.versionMinor), \(u32(ModelLayout.Header.fileBytes)) bytes, CRC32 "
                   + String(format: "%08x", u32(ModelLayout.Header.crc32)) + " (valid)")
        let n = Int(u32(ModelLayout.Header.sectionCount)), table = Int(u32(ModelLayout.Header.sectionTableOffset))
        let kinds: [UInt32: String] = [1: "feature config", 2: "labels", 3: "tensors", 4: "operators", 5: "data", 6: "graph", 7: "frontend tables"]
        out.append("sections (\(n)):")
        for i in 0..<n {
            let e = table + i * ModelLayout.sectionEntryBytes
            let k = u32(e + ModelLayout.SectionEntry.kind)
            out.append("  \(kinds[k] ?? "unknown kind \(k)"): offset \(u32(e + ModelLayout.SectionEntry.offset)), \(u32(e + ModelLayout.SectionEntry.length)) bytes, count \(u32(e + ModelLayout.SectionEntry.count))")
        }
        out.append("graph: input tensor \(m.inputTensor), output tensor \(m.outputTensor), softmax multiplier \(m.softmaxMultiplier) shift \(m.softmaxShift) (logit scale x log2(e) x 2^16 = \(String(format: "%.6g", real(m.softmaxMultiplier, m.softmaxShift))))")

        out.append("tensors (\(m.tensorCount)):")
        for t in 0..<m.tensorCount {
            let info = m.tensor(t)
            let shape = "[" + (0..<info.rank).map { String(info.dim($0)) }.joined(separator: ", ") + "]"
            var line = String(format: "  %3d ", t) + typeName(info.type).padding(toLength: 6, withPad: " ", startingAt: 0)
                + shape.padding(toLength: 16, withPad: " ", startingAt: 0)
            if info.isConstant {
                line += "constant, \(info.byteCount) B"
                if info.channelScalesCount > 0 {
                    let scales = (0..<info.channelScalesCount).map { c -> Double in let (mm, s) = m.channelScale(t, c); return real(mm, s) }
                    line += String(format: ", %d channel scales %.4g...%.4g", scales.count, scales.min()!, scales.max()!)
                }
            } else {
                line += "activation, zero point \(info.zeroPoint)"
                if info.scaleMultiplier != 0 {
                    line += String(format: ", scale %.6g", real(info.scaleMultiplier, info.scaleShift))
                        + " (\(info.scaleMultiplier) x 2^(\(info.scaleShift) - 31))"
                }
            }
            out.append(line)
        }

        out.append("operators (\(m.operatorCount)):")
        for i in 0..<m.operatorCount {
            let o = m.op(i)
            let ins = (0..<o.inputCount).map { String(o.input($0)) }.joined(separator: ", ")
            var params: [String] = []
            switch o.opcode {
            case .conv2d: params = ["act \(o.param(0))...\(o.param(1))", "pool \(o.param(2))x\(o.param(3))"]
            case .maxPool2d: params = ["pool \(o.param(0))x\(o.param(1))"]
            case .affine, .fullyConnected: params = ["act \(o.param(0))...\(o.param(1))"]
            case .gru: params = ["return sequences \(o.param(0))"]
            case .lstm: params = ["return sequences \(o.param(0))", "cell fraction bits \(o.param(1))"]
            case .inputQuantize, .reshape: params = []
            }
            let ps = params.isEmpty ? "" : "; " + params.joined(separator: ", ")
            out.append(String(format: "  %3d ", i) + opName(o.opcode).padding(toLength: 15, withPad: " ", startingAt: 0)
                       + "inputs [\(ins)] -> \(o.output)\(ps)")
        }

        let labels = (0..<m.labelCount).map { String(decoding: m.label($0), as: UTF8.self) }
        out.append("labels (\(labels.count)): " + labels.joined(separator: ", "))
        let f = m.featureConfig
        out.append("feature configuration: sample rate \(f.sampleRate) Hz, segment \(f.segmentSamples) samples (\(f.frameCount) frames), "
                   + "n_fft \(f.nFFT), hop \(f.hopLength), \(f.nMels) mel bands (\(f.melScale)), \(f.nMFCC) MFCCs, "
                   + "f_min \(f.fMinHz) Hz, f_max \(f.fMaxHz == 0 ? "Nyquist" : "\(f.fMaxHz) Hz"), top_db \(Double(f.topDbCentibels) / 100) dB, "
                   + "amin 1e\(f.aminExponent), ref 1e\(f.refPowerExponent), power \(f.spectrumPower), window \(f.window), centre \(f.center)")
        out.append(m.frontendLength > 0 ? "frontend tables: \(m.frontendLength) bytes, frontend version \(m.frontendTables()?.version ?? 0)\((m.frontendTables()?.version ?? 0) >= 2 ? " (16-bit log-mel: streams reuse frames)" : " (32-bit log-mel: streams recompute every frame)")" : "frontend tables: none (the fixed-point MFCC's tables are not in this file)")
        return out.joined(separator: "\n")
    }
}
