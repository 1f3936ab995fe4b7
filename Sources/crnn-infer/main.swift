// Host entry of crnn-infer (SwiftPM). The Embedded Swift build (firmware-sim) supplies its own
// `@_cdecl("main")` that converts argv the same way and calls `crnnInferMain`.

import CLibc

exit(crnnInferMain(arguments: CommandLine.arguments.map { Array($0.utf8) }))
