import OffloadSim

/// The policies the command line can name, and a way to run one by name while keeping
/// the engine specialised to the concrete policy type.
public enum PolicyCatalog {
    /// Policy names, as `--policy` takes them.
    public static let names = ["on-demand"]

    /// What a run by name returns.
    public struct Result {
        /// The policy's name.
        public var policyName: String
        /// The predictor it assumed.
        public var predictorName: String
        /// The figures.
        public var metrics: SimulationMetrics
        /// The recorded timeline.
        public var timeline: TimelineRecorder
    }

    /// Runs `run` under the policy called `name` (one of ``names``).
    public static func run<Source: RoutingSource>(named name: String, _ run: SimulationRun<Source>) throws -> Result {
        switch name {
        case "on-demand": return try execute(OnDemandPolicy(), run)
        default: preconditionFailure("unknown policy \(name); check against PolicyCatalog.names first")
        }
    }

    private static func execute<Policy: OffloadPolicy, Source: RoutingSource>(_ policy: Policy, _ run: SimulationRun<Source>) throws -> Result {
        let (metrics, timeline) = try run.run(policy: policy)
        return Result(policyName: policy.name, predictorName: policy.predictorName, metrics: metrics, timeline: timeline)
    }
}
