/// A host-side cost of a serving engine (a sync on the routed ids, the issue of a copy call),
/// written as what the host does rather than as a time: so many device-to-host syncs after a
/// kernel, kernel launches (eager operations) and copy calls, plus fixed nanoseconds. The
/// hardware profile prices each operation (``HardwareProfile/syncAfterKernelNs``,
/// ``HardwareProfile/launchOverheadNs``, ``HardwareProfile/copyCallNs``): a preset's stated
/// assumptions, or what `moesim gpu calibrate` measured on a GPU. The engine's code says how
/// many of each it performs; the GPU says what each takes.
///
/// In an engine file it is an integer (ns) or a sum such as `"sync + launch"`,
/// `"2 × copy_call"` or `"sync + 4000"` (``init(parsing:)``, ``description``).
public struct HostCost: Sendable, Equatable, CustomStringConvertible {
    /// Device-to-host syncs after a kernel (the host reads a few bytes a kernel wrote).
    public var syncs: Int
    /// Kernel launches or eager framework operations issued by the host.
    public var launches: Int
    /// Host-to-device copy calls issued by the host.
    public var copyCalls: Int
    /// Fixed time on top, ns.
    public var fixedNs: Nanoseconds

    /// A cost of `syncs` syncs, `launches` launches, `copyCalls` copy calls and `fixedNs` ns.
    public init(syncs: Int = 0, launches: Int = 0, copyCalls: Int = 0, fixedNs: Nanoseconds = 0) {
        self.syncs = syncs
        self.launches = launches
        self.copyCalls = copyCalls
        self.fixedNs = fixedNs
    }

    /// No cost.
    public static let none = HostCost()

    /// Whether the cost is fixed nanoseconds, the same on any profile.
    public var isFixed: Bool { syncs == 0 && launches == 0 && copyCalls == 0 }

    /// Whether the cost is nothing at all, on any profile.
    public var isZero: Bool { isFixed && fixedNs == 0 }

    /// The operations' names in a sum, as an engine file writes them.
    public static let operationNames = ["sync", "launch", "copy_call"]

    /// The cost on `profile`, ns: each operation at the profile's `[framework.NAME]` cost where
    /// `framework` names one it has (``FrameworkHostCosts``), else at its driver-level sync,
    /// launch and copy call. O(1).
    public func nanoseconds(on profile: HardwareProfile, framework: String? = nil) -> Nanoseconds {
        let (sync, launch, copyCall) = framework.flatMap { profile.frameworkCosts[$0] }.map { ($0.syncNs, $0.launchNs, $0.copyCallNs) }
            ?? (profile.syncAfterKernelNs, profile.launchOverheadNs, profile.copyCallNs)
        return fixedNs + Nanoseconds(syncs) * sync + Nanoseconds(launches) * launch + Nanoseconds(copyCalls) * copyCall
    }

    /// Reads a sum of terms joined by `+`, each an integer (ns) or `[N ×] sync | launch |
    /// copy_call` (`×` or `*`); nil, with nothing read, when a term is neither or a count is
    /// not a whole number from 1 to 1,000.
    public init?(parsing text: String) {
        var cost = HostCost()
        for term in text.split(separator: "+", omittingEmptySubsequences: false) {
            // Names and numbers hold no spaces: drop them all.
            let parts = term.split(whereSeparator: { $0 == "×" || $0 == "*" }).map { String($0.filter { !$0.isWhitespace }) }
            if parts.count == 1, let ns = Int(parts[0]), ns >= 0 {
                cost.fixedNs += Nanoseconds(ns)
                continue
            }
            let name: String
            var count = 1
            switch parts.count {
            case 1: name = parts[0]
            case 2:
                guard let n = Int(parts[0]), (1...1_000).contains(n) else { return nil }
                count = n
                name = parts[1]
            default: return nil
            }
            switch name {
            case "sync": cost.syncs += count
            case "launch": cost.launches += count
            case "copy_call": cost.copyCalls += count
            default: return nil
            }
        }
        self = cost
    }

    /// The cost as an engine file writes it: "0", "10000", "sync + launch", "2 × copy_call + 500".
    public var description: String {
        var terms: [String] = []
        for (count, name) in [(syncs, "sync"), (launches, "launch"), (copyCalls, "copy_call")] where count > 0 {
            terms.append(count == 1 ? name : "\(count) × \(name)")
        }
        if fixedNs > 0 || terms.isEmpty { terms.append(String(fixedNs)) }
        return terms.joined(separator: " + ")
    }
}
