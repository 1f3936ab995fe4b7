// swift-tools-version: 6.0
// A CRNN music-genre classifier: float training on a desktop, int8 inference on a small ARM board.
// Dependency direction: executables -> host modules -> CRNNRuntime. Nothing points back up.

import PackageDescription

// MARK: - System libraries (host only; module map + pkg-config each)

/// A host C library: its module map in Sources/NAME, found through pkg-config, installed by the apt package.
func hostLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let systemLibraries: [Target] = [
    hostLibrary("CFFTW", pkgConfig: "fftw3f", apt: "libfftw3-dev"),
    hostLibrary("CSndFile", pkgConfig: "sndfile", apt: "libsndfile1-dev"),
    hostLibrary("CSoxr", pkgConfig: "soxr", apt: "libsoxr-dev"),
    hostLibrary("COpenBLAS", pkgConfig: "openblas", apt: "libopenblas-dev"),
    // The C library only (stdio, stdlib, unistd...): what crnn-infer may use besides CRNNRuntime.
    .systemLibrary(name: "CLibc", path: "Sources/CLibc"),
]

// MARK: - The dependency-free runtime (also compiled as Embedded Swift by .ci/run and firmware-sim)

let runtime: [Target] = [
    .target(name: "CRNNRuntime"),
]

// MARK: - Host modules

let host: [Target] = [
    // SplitMix64, the one seeded generator of the host modules, the tests and the tools (dependency-free).
    .target(name: "SplitMix"),
    .target(name: "AudioIO", dependencies: ["CSndFile", "CSoxr", "CRNNRuntime", "SplitMix"]),
    .target(name: "Features", dependencies: ["CFFTW", "AudioIO", "CRNNRuntime", "SplitMix"],
            resources: [.copy("Splits")]),
    .target(name: "Training", dependencies: ["COpenBLAS", "Features", "CRNNRuntime"]),
    .target(name: "Quantization", dependencies: ["Training", "Features", "AudioIO", "CRNNRuntime"]),
    // The entry point and stderr line crnn-train and crnn-quantize share (usage errors exit with 1).
    .target(name: "CommandLineSupport",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]),
]

// MARK: - Executables

let executables: [Target] = [
    .executableTarget(
        name: "crnn-train",
        dependencies: [
            "AudioIO", "Features", "Training", "CRNNRuntime", "Quantization", "CommandLineSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
    .executableTarget(
        name: "crnn-quantize",
        dependencies: [
            "Quantization", "Training", "Features", "AudioIO", "CRNNRuntime", "CommandLineSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
    // The board's program: the dependency-free runtime and the C library, nothing else.
    .executableTarget(name: "crnn-infer", dependencies: ["CRNNRuntime", "CLibc"]),
]

// MARK: - Developer tools (benchmarks and checkers run by tools/*.sh; built by `swift build`, not products)

let tools: [Target] = [
    // Reference vs fast int8 kernels on the paper-shaped models (tools/runtime_bench.sh). It drives single
    // operators through the interpreter's internals, so its timing part needs CRNNRuntime built with
    // -enable-testing (debug builds, or the script's release build); a plain release build gets a stub.
    .executableTarget(name: "runtime-bench", dependencies: ["CRNNRuntime", "TestSupport"], path: "Sources/Tools/runtime-bench"),
    // The fixed-point MFCC of one segment, validated then timed (tools/mfcc_fixed_bench.sh).
    .executableTarget(name: "mfcc-fixed-bench", dependencies: ["CRNNRuntime", "TestSupport"], path: "Sources/Tools/mfcc-fixed-bench"),
    // crnn-infer's answers vs the device path of a quantize report (tools/device_parity.sh).
    .executableTarget(name: "device-parity-compare", path: "Sources/Tools/device-parity-compare"),
]

// MARK: - Tests

let tests: [Target] = [
    // Shared by the test targets and the tools: seeded generators, aligned bytes, the paper-shaped test model.
    // Generators.swift and PaperTestModel.swift are also compiled as Embedded Swift by tools/embedded_smoke.sh.
    .target(name: "TestSupport", dependencies: ["CRNNRuntime", "SplitMix"], path: "Tests/TestSupport"),
    // The format 1.1 fixture is read by path (#filePath), not bundled.
    .testTarget(name: "CRNNRuntimeTests", dependencies: ["CRNNRuntime", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "AudioIOTests", dependencies: ["AudioIO", "TestSupport"]),
    .testTarget(name: "FeaturesTests", dependencies: ["Features", "AudioIO", "TestSupport"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "QuantizationTests", dependencies: ["Quantization", "Training", "Features", "AudioIO", "TestSupport", "SplitMix"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "CLITests", dependencies: ["crnn-train", "crnn-quantize", "crnn-infer", "CRNNRuntime", "AudioIO", "Features", "Quantization", "TestSupport"]),
]

// MARK: - Package

let package = Package(
    name: "crnn-genre",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "crnn-train", targets: ["crnn-train"]),
        .executable(name: "crnn-quantize", targets: ["crnn-quantize"]),
        .executable(name: "crnn-infer", targets: ["crnn-infer"]),
        .library(name: "CRNNRuntime", targets: ["CRNNRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: systemLibraries + runtime + host + executables + tools + tests
)
