// swift-tools-version:6.1
import Foundation
import PackageDescription

/// The main package's identity is its folder's name (a path dependency), which depends on the checkout.
let moesimPackage = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

/// Benchmarks for moesim, kept out of the main package so that its build stays light.
/// Run from this folder: `swift package --disable-sandbox benchmark` (or `make bench`
/// at the top level). Real traces are read from ../../shared/traces.
let package = Package(
    name: "moesim-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "BenchmarkData",
            dependencies: [.product(name: "TraceStore", package: moesimPackage)],
            path: "Benchmarks/BenchmarkData"
        ),
        .executableTarget(
            name: "TraceStoreBenchmarks",
            dependencies: [
                "BenchmarkData",
                .product(name: "TraceStore", package: moesimPackage),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TraceStoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SimulationBenchmarks",
            dependencies: [
                "BenchmarkData",
                .product(name: "TraceStore", package: moesimPackage),
                .product(name: "OffloadSim", package: moesimPackage),
                .product(name: "Policies", package: moesimPackage),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SimulationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
