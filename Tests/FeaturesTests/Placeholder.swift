import XCTest
final class FeaturesPlaceholderTests: XCTestCase { func testBuilds() {} }
