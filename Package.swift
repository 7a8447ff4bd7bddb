// swift-tools-version:6.0
import PackageDescription

/// moesim: a trace-driven simulator and policy lab for Mixture-of-Experts inference
/// with experts offloaded to CPU memory. Layers (DESIGN.md §4), each importing only
/// those below it:
///
///     moesim (CLI)  →  TraceStore  →  CSQLite, CZstd
let package = Package(
    name: "moesim",
    products: [
        .executable(name: "moesim", targets: ["moesim"]),
        .library(name: "TraceStore", targets: ["TraceStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
            dependencies: ["CSQLite", "CZstd"]
        ),
        .executableTarget(
            name: "moesim",
            dependencies: [
                "TraceStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "TraceStoreTests",
            dependencies: ["TraceStore", "moesim"]
        ),
    ]
)
