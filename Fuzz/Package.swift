// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The main package's identity is its folder's name (a path dependency), which depends on the checkout.
let moesimPackage = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

/// libFuzzer targets over moesim's input paths (trace files, chunk payloads, trace metadata,
/// TOML files of every schema, the text importers), kept out of the main package: it only
/// links with `-sanitize=fuzzer`, which provides libFuzzer's driver. Build and run with `make fuzz`
/// (long runs) or `make fuzz-smoke` (the short seeded pass `make test` runs); see README.md here.
let package = Package(
    name: "moesim-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "MoesimFuzz",
            dependencies: [
                .product(name: "TraceStore", package: moesimPackage),
                .product(name: "OffloadSim", package: moesimPackage),
                .product(name: "Policies", package: moesimPackage),
                .product(name: "TOML", package: moesimPackage),
                .product(name: "Lab", package: moesimPackage),
            ],
            path: "Sources/MoesimFuzz"
        ),
    ]
)
