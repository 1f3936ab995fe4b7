// Entry of the Embedded Swift build of crnn-infer (firmware-sim/run). The host build's entry is
// Sources/crnn-infer/main.swift; both hand argv to the same `crnnInferMain`, so the ARM binaries run the
// very sources the desktop runs. Embedded Swift has no `CommandLine`: argv arrives through the C main.
import CLibc

@_cdecl("main")
func embeddedMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var args: [[UInt8]] = []
    for i in 0..<Int(argc) {
        var a: [UInt8] = []
        if var p = argv[i] {
            while p.pointee != 0 {
                a.append(UInt8(bitPattern: p.pointee))
                p += 1
            }
        }
        args.append(a)
    }
    let status = crnnInferMain(arguments: args)
    fflush(stdout)
    return status
}
