import Foundation

/// A chart drawn as inline SVG: lines (with markers), scatter points or stacked bars, with
/// axes, tick labels, units and a legend. Each series is drawn in its own colour and its
/// group carries `data-series="NAME"`, so tests and readers can find it.
public struct SVGChart: Sendable {
    /// How the series are drawn.
    public enum Style: Sendable { case lines, points, stackedBars }

    /// One named series of (x, y) points (for bars, x is the bar's index).
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var dashed: Bool

        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
            self.name = name
            self.points = points
            self.dashed = dashed
        }
    }

    /// Series colours, in order (Okabe and Ito's colour-blind-safe palette).
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    public var title: String
    public var subtitle: String
    public var xLabel: String
    public var yLabel: String
    public var style: Style
    public var series: [Series]
    /// Labels of the bars (stacked bars only).
    public var categories: [String] = []

    public init(title: String, subtitle: String, xLabel: String, yLabel: String, style: Style, series: [Series], categories: [String] = []) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.style = style
        self.series = series
        self.categories = categories
    }

    /// The chart as an `<svg>` element, 720 × 420 px.
    public var svg: String {
        let (width, height) = (720.0, 420.0)
        let (left, right, top, bottom) = (70.0, 200.0, 70.0, 56.0)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let xs = style == .stackedBars ? categories.indices.map(Double.init) : series.flatMap { $0.points.map(\.x) }
        var yMax = style == .stackedBars
            ? categories.indices.map { index in series.reduce(0) { $0 + ($1.points.first { $0.x == Double(index) }?.y ?? 0) } }.max() ?? 1
            : series.flatMap { $0.points.map(\.y) }.max() ?? 1
        yMax = niceCeiling(max(yMax, 1e-9))
        let yMin = 0.0
        let xMin = style == .stackedBars ? -0.5 : (xs.min() ?? 0)
        let xMax = style == .stackedBars ? Double(categories.count) - 0.5 : max(xs.max() ?? 1, xMin + 1e-9)
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - yMin) / (yMax - yMin) * plotHeight }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                   "<text x=\"\(f(left))\" y=\"22\" font-size=\"16\" font-weight=\"bold\">\(escape(title))</text>",
                   "<text x=\"\(f(left))\" y=\"40\" font-size=\"11\" fill=\"#444\">\(subtitleLines.map { "<tspan x=\"\(f(left))\" dy=\"\($0 == subtitleLines[0] ? 0 : 14)\">\(escape($0))</tspan>" }.joined())</text>",
                   "<g stroke=\"#888\" fill=\"none\"><line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\"/><line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\"/></g>"]
        for index in 0...4 {
            let y = yMin + (yMax - yMin) * Double(index) / 4
            out.append("<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(y)))\" stroke=\"#eee\"/>")
            out.append("<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" font-size=\"11\" text-anchor=\"end\">\(tick(y))</text>")
        }
        if style == .stackedBars {
            for (index, name) in categories.enumerated() {
                out.append("<text x=\"\(f(px(Double(index))))\" y=\"\(f(top + plotHeight + 16))\" font-size=\"11\" text-anchor=\"middle\">\(escape(name))</text>")
            }
        } else {
            let distinct = Array(Set(xs)).sorted()
            let ticks = distinct.count <= 8 ? distinct : (0...4).map { xMin + (xMax - xMin) * Double($0) / 4 }
            for x in ticks {
                out.append("<text x=\"\(f(px(x)))\" y=\"\(f(top + plotHeight + 16))\" font-size=\"11\" text-anchor=\"middle\">\(tick(x))</text>")
            }
        }
        out.append("<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 12))\" font-size=\"12\" text-anchor=\"middle\">\(escape(xLabel))</text>")
        out.append("<text transform=\"translate(16 \(f(top + plotHeight / 2))) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">\(escape(yLabel))</text>")
        var base = [Double](repeating: 0, count: categories.count)
        for (index, item) in series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            out.append("<g data-series=\"\(escape(item.name))\">")
            switch style {
            case .lines, .points:
                let sorted = item.points.sorted { $0.x < $1.x }
                if style == .lines && sorted.count > 1 {
                    let path = sorted.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                    out.append("<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"3\"\(item.dashed ? " stroke-dasharray=\"8 5\"" : "")/>")
                }
                for point in sorted {
                    out.append("<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"5\" fill=\"\(colour)\"><title>\(escape(item.name)): \(tick(point.x)), \(tick(point.y))</title></circle>")
                }
            case .stackedBars:
                let barWidth = plotWidth / Double(max(categories.count, 1)) * 0.6
                for point in item.points {
                    let category = Int(point.x)
                    let y0 = base[category], y1 = base[category] + point.y
                    base[category] = y1
                    out.append("<rect x=\"\(f(px(point.x) - barWidth / 2))\" y=\"\(f(py(y1)))\" width=\"\(f(barWidth))\" height=\"\(f(py(y0) - py(y1)))\" fill=\"\(colour)\"><title>\(escape(item.name)): \(tick(point.y))</title></rect>")
                }
            }
            out.append("</g>")
            let legendY = top + 16 + Double(index) * 20
            out.append("<rect x=\"\(f(width - right + 16))\" y=\"\(f(legendY - 10))\" width=\"14\" height=\"14\" fill=\"\(colour)\"/>")
            out.append("<text x=\"\(f(width - right + 36))\" y=\"\(f(legendY + 2))\" font-size=\"11\">\(escape(item.name))</text>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    /// The subtitle in lines of at most about 90 characters, broken at " · ".
    private var subtitleLines: [String] {
        var lines: [String] = []
        for part in subtitle.components(separatedBy: " · ") {
            if let last = lines.last, last.count + part.count + 3 <= 90 { lines[lines.count - 1] = last + " · " + part } else { lines.append(part) }
        }
        return lines.isEmpty ? [""] : lines
    }

    private func niceCeiling(_ value: Double) -> Double {
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    private func tick(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e6 ? String(Int(value)) : String(format: abs(value) < 1 ? "%.2f" : "%.1f", value)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
