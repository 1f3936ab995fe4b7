// crnn-infer's integer decimal formatting (Output.put(fixed:_:decimals:)), checked against exact rational
// rounding computed here in a way that cannot overflow (decimal digits by long division on UInt64 parts).
import XCTest
@testable import crnn_infer

final class OutputFormatTests: XCTestCase {
    /// What crnn-infer writes, captured through a pipe.
    private func formatted(_ n: Int64, _ d: Int64, _ decimals: Int) throws -> String {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let out = Output(fd: fds[1])
        out.put(fixed: n, d, decimals: decimals)
        out.flush()
        close(fds[1])
        var bytes: [UInt8] = [], buf = [UInt8](repeating: 0, count: 256)
        while true { let k = read(fds[0], &buf, buf.count); if k <= 0 { break }; bytes += buf[0..<k] }
        close(fds[0])
        return String(decoding: bytes, as: UTF8.self)
    }

    /// round(n / d) to `decimals` digits, ties away from zero, as text.
    private func expected(_ n: Int64, _ d: Int64, _ decimals: Int) -> String {
        let m = n.magnitude, den = UInt64(d)
        var digits: [UInt64] = []
        var rest = m % den
        for _ in 0..<decimals { let (q, r) = den.dividingFullWidth(rest.multipliedFullWidth(by: 10)); digits.append(q); rest = r }
        var whole = m / den
        if rest.multipliedFullWidth(by: 2) >= (0, den) {  // carry the rounding through the digits
            var i = digits.count - 1
            while i >= 0 { digits[i] += 1; if digits[i] < 10 { break }; digits[i] = 0; i -= 1 }
            if i < 0 { whole += 1 }
        }
        let zero = whole == 0 && digits.allSatisfy { $0 == 0 }
        return (n < 0 && !zero ? "-" : "") + "\(whole)" + (decimals > 0 ? "." + digits.map(String.init).joined() : "")
    }

    func testDocumentedExampleAndEdgeCases() throws {
        XCTAssertEqual(try formatted(22016, 22050, 3), "0.998")
        XCTAssertEqual(try formatted(-1, 3, 0), "0")
        XCTAssertEqual(try formatted(999_999, 1_000_000, 3), "1.000")
        XCTAssertEqual(try formatted(-2, 4, 0), "-1")
    }

    /// `crnn-infer --bench --json` writes real_time_factor as total_ns * rate / (segment samples * 1e9): with a
    /// 66150-sample segment the denominator is 6.6e13, and the old `2 * rest * 10^6` overflowed Int64 (a crash)
    /// whenever the device path took more than 7 % of real time, e.g. a debug build on a loaded machine.
    func testLargeDenominatorsDoNotOverflow() throws {
        let seg: Int64 = 66150 * 1_000_000_000
        XCTAssertEqual(try formatted(10_960_198_533_900, seg, 6), "0.165687")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let d = Int64.random(in: 1...(Int64.max / 10), using: &rng)
            let n = Int64.random(in: -(Int64.max / 2)...(Int64.max / 2), using: &rng)
            let k = Int.random(in: 0...6, using: &rng)
            // whole * 10^k must fit: keep n / d small enough.
            guard (n.magnitude / UInt64(d)) < 1_000_000_000_000 else { continue }
            XCTAssertEqual(try formatted(n, d, k), expected(n, d, k), "\(n) / \(d), \(k) decimals")
        }
    }
}
