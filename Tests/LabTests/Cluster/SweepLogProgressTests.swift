import Lab
import Testing

/// Reading the last progress a shard's log reports.
@Suite("Sweep log progress")
struct SweepLogProgressTests {
    @Test("the last progress line of the latest run wins")
    func lastLine() throws {
        let log = """
            moesim: shard 1/3 of job 5 on vm at 2026-12-02T02:55:21Z
            sweep: 1/32 points, 1.2 points/s, ETA 25 s
            slurmstepd-vm: error: *** JOB 8 ON vm CANCELLED AT 2026-12-02T02:55:24 ***
            moesim: shard 1/3 of job 9 on vm at 2026-12-02T02:55:34Z
            sweep: 9/29 points, 1.3 points/s, ETA 15 s
            """
        let progress = try #require(SweepLogProgress(log: Substring(log)))
        #expect(progress.done == 9 && progress.total == 29 && progress.rate == 1.3 && !progress.finished)
    }

    @Test("a closing line marks the run finished")
    func closingLine() throws {
        let log = "sweep: 29/29 points, 1.6 points/s, ETA 0 s\nsweep 'demo' (shard 1/3): 29 points computed, 3 already in x.sqlite; 96 points in the spec\n"
        #expect(try #require(SweepLogProgress(log: Substring(log))).finished)
    }

    @Test("a log without progress reports none")
    func noProgress() {
        #expect(SweepLogProgress(log: "moesim: shard 0/3 of job 5 on vm\n") == nil)
    }
}
