import XCTest
final class QuantizationPlaceholderTests: XCTestCase { func testBuilds() {} }
