import Lab
import TOML
import Testing

@Suite("Sweep specs")
struct SweepSpecTests {
    static let text = """
        name = "t"
        [base]
        trace = "traces/demo.sqlite"
        [grid]
        cache_mib = [0, 2048]
        bus_gbps = [12.6, 25.2, 50.4]
        """

    @Test("points are the grid's product, parameters in name order, the last varying fastest")
    func enumeration() throws {
        let spec = try SweepSpec(toml: Self.text, file: "s.toml")
        #expect(spec.count == 6)
        #expect(spec.grid.map(\.parameter) == [.busGBps, .cacheMiB])
        #expect(spec.point(0).settings[.busGBps] == .number(12.6) && spec.point(0).settings[.cacheMiB] == .number(0))
        #expect(spec.point(1).settings[.busGBps] == .number(12.6) && spec.point(1).settings[.cacheMiB] == .number(2048))
        #expect(spec.point(5).settings[.busGBps] == .number(50.4) && spec.point(5).settings[.cacheMiB] == .number(2048))
        #expect(spec.point(3).settings[.trace] == .string("traces/demo.sqlite"))
    }

    @Test("a point's identity depends on its settings, not on comments or order in the file")
    func identity() throws {
        let reordered = """
            # the same sweep, written differently
            name = "t"
            [grid]
            bus_gbps = [12.6, 25.2, 50.4]
            cache_mib = [0, 2048]
            [base]
            trace = "traces/demo.sqlite"
            """
        let a = try SweepSpec(toml: Self.text, file: "a.toml"), b = try SweepSpec(toml: reordered, file: "b.toml")
        #expect(a.hash == b.hash)
        #expect((0..<6).map { a.point($0).hash } == (0..<6).map { b.point($0).hash })
        #expect(Set((0..<6).map { a.point($0).hash }).count == 6)
    }

    @Test("spec errors name the key's line; an unknown parameter lists the valid ones", arguments: [
        ("name = \"t\"\n[base]\ntrace = \"x\"\n[grid]\nbandwidth = [1, 2]\n", 5, "valid parameters (under [base] or [grid]): trace, model"),
        ("name = \"t\"\n[base]\ntrace = \"x\"\nbatch = 1.5\n", 4, "'base.batch' must be integer"),
        ("name = \"t\"\n[base]\ntrace = \"x\"\n[grid]\ncache_mib = []\n", 5, "non-empty array"),
        ("name = \"t\"\n[base]\ntrace = \"x\"\n[grid]\nbatch = [1, 1]\n", 5, "lists a value twice"),
        ("name = \"t\"\n[base]\nbatch = 1\n", 0, "names no trace"),
    ])
    func errors(text: String, line: Int, message: String) {
        #expect {
            _ = try SweepSpec(toml: text, file: "s.toml")
        } throws: { error in
            guard let error = error as? TOMLFileError else { return false }
            return error.line == line && error.problem.contains(message)
        }
    }
}
