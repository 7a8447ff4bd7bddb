import Foundation
import Lab
import TraceStore

/// Progress on standard error: a bar redrawn in place on a terminal, otherwise a plain line every few seconds.
final class ProgressDisplay {
    let terminal: Bool
    private var lastLine = Date.distantPast

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ progress: SweepProgress) {
        let now = Date()
        if !terminal && now.timeIntervalSince(lastLine) < 5 && progress.done < progress.total { return }
        lastLine = now
        let eta = progress.remaining.map { "ETA \(Int($0.rounded())) s" } ?? "ETA —"
        let counts = "\(progress.done)/\(progress.total) points, \(Format.fixed(progress.rate, 1)) points/s, \(eta)"
        if terminal {
            let width = 30
            let filled = progress.total == 0 ? width : width * progress.done / progress.total
            printError("\u{1B}[2K\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] " + counts, newline: false)
        } else {
            printError("sweep: " + counts)
        }
    }

    func finish(_ progress: SweepProgress) {
        if terminal && progress.total > 0 { printError("") }
    }
}
