import XCTest
final class AudioIOPlaceholderTests: XCTestCase { func testBuilds() {} }
