// swift-tools-version:6.0
import PackageDescription

/// moesim: a trace-driven simulator and policy lab for Mixture-of-Experts inference
/// with experts offloaded to CPU memory. Layers (DESIGN.md §4), each importing only
/// those below it:
///
///     moesim (CLI)  →  Lab  →  Policies  →  OffloadSim  →  TraceStore  →  CSQLite, CZstd, CFileWriteback
///                                           ↘  TOML
///     moesim (CLI)  →  CUDABackend  →  OffloadSim;  CUDABackend  →  CCUDADriver (dlopen of libcuda)
///     moesim (CLI)  →  HostCalibration  →  OffloadSim;  HostCalibration  →  CHostRead (the read kernel),
///                                                        CGGMLHost (dlopen of llama.cpp's libggml-cpu)
let package = Package(
    name: "moesim",
    products: [
        .executable(name: "moesim", targets: ["moesim"]),
        .library(name: "TraceStore", targets: ["TraceStore"]),
        .library(name: "OffloadSim", targets: ["OffloadSim"]),
        .library(name: "Policies", targets: ["Policies"]),
        .library(name: "TOML", targets: ["TOML"]),
        .library(name: "Lab", targets: ["Lab"]),
        .library(name: "CUDABackend", targets: ["CUDABackend"]),
        .library(name: "HostCalibration", targets: ["HostCalibration"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(
            name: "TraceStore",
            dependencies: ["CSQLite", "CZstd", "CFileWriteback"]
        ),
        .target(name: "CFileWriteback"),
        .target(name: "TOML"),
        .target(
            name: "CCUDADriver",
            linkerSettings: [.linkedLibrary("dl")]
        ),
        .target(
            name: "CUDABackend",
            dependencies: ["CCUDADriver", "OffloadSim", "TraceStore", "TOML"],
            exclude: ["Kernels/moesim_kernels.cu", "Kernels/moesim_kernels.ptx"]
        ),
        .target(
            name: "OffloadSim",
            dependencies: [
                "TraceStore", "TOML",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(name: "CHostRead"),
        .target(
            name: "CGGMLHost",
            linkerSettings: [.linkedLibrary("dl")]
        ),
        .target(
            name: "HostCalibration",
            dependencies: ["CHostRead", "CGGMLHost", "OffloadSim", "TraceStore"]
        ),
        .target(
            name: "Policies",
            dependencies: ["OffloadSim", "TraceStore", "TOML"]
        ),
        .target(
            name: "Lab",
            dependencies: ["Policies", "OffloadSim", "TraceStore", "TOML"]
        ),
        .executableTarget(
            name: "moesim",
            dependencies: [
                "TraceStore", "OffloadSim", "Policies", "TOML", "Lab", "CUDABackend", "HostCalibration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "TraceStoreTests",
            dependencies: ["TraceStore", "TestSupport", "moesim"]
        ),
        .testTarget(
            name: "TOMLTests",
            dependencies: ["TOML"]
        ),
        .testTarget(
            name: "LabTests",
            dependencies: ["Lab", "Policies", "OffloadSim", "TraceStore", "TOML", "TestSupport", "moesim"],
            exclude: ["Fixtures/png_colours.py"]
        ),
        .testTarget(
            name: "PoliciesTests",
            dependencies: ["Policies", "OffloadSim", "TraceStore", "TOML", "TestSupport"]
        ),
        .testTarget(
            name: "CUDABackendTests",
            dependencies: ["CUDABackend", "OffloadSim", "Policies", "TraceStore", "TestSupport", "moesim"],
            exclude: ["Fixtures/fake_libcuda.c", "Fixtures/kernel_emulator.cpp", "Fixtures/emulator"]
        ),
        .testTarget(
            name: "HostCalibrationTests",
            dependencies: ["HostCalibration", "OffloadSim", "TraceStore", "TestSupport", "moesim"],
            exclude: ["Fixtures/fake_libggml.c"]
        ),
        .testTarget(
            name: "OffloadSimTests",
            dependencies: ["OffloadSim", "Policies", "TraceStore", "TOML", "TestSupport", "moesim"]
        ),
    ]
)
