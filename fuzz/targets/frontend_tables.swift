// Fuzz target `frontend_tables`: the input is the payload of the frontend-tables section (model format §7),
// spliced into the fuzz model (fuzzTinyModel(.gru), whose last section it replaces; size, length and CRC are
// fixed up). Then ModelFile validation, FrontendTablesReader (`frontendTables()`), FixedPointMFCC's own table
// checks, and one segment of fixed-point MFCC over a fixed signal with the fuzzed tables.
import CRNNRuntime

let baseModel = fuzzTinyModel(.gru, frontend: true)
let baseSection = frontendSectionEntry(baseModel)!
let testSegment: [Int16] = (0..<Int(fuzzFeatureConfig.segmentSamples)).map { i in
    Int16(truncatingIfNeeded: (i &* 7919 &+ (i >> 3) &* 104_729) % 20_000 - 10_000)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrontendTables(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(baseModel[0..<baseSection.offset])
    bytes += UnsafeBufferPointer(start: data, count: size)
    while bytes.count % ModelLayout.alignment != 0 { bytes.append(0) }
    store32(&bytes, baseSection.entry + ModelLayout.SectionEntry.length, UInt32(size))
    store32(&bytes, ModelLayout.Header.fileBytes, UInt32(bytes.count))
    fixModelCRC(&bytes)
    bytes.withUnsafeBufferPointer { p in
        withAligned(p.baseAddress, p.count) { raw in
            guard let model = try? ModelFile(bytes: raw) else { return }
            guard let tables = model.frontendTables() else { return }
            precondition(tables.window.count == Int(fuzzFeatureConfig.nFFT))
            guard let extractor = try? FixedPointMFCCExtractor(model: model) else { return }
            var features = [Int32](repeating: 0, count: fuzzFeatureConfig.valuesPerSegment)
            testSegment.withUnsafeBufferPointer { s in
                features.withUnsafeMutableBufferPointer { extractor.extract(segment: s, into: $0) }
            }
        }
    }
    return 0
}
