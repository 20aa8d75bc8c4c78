import Foundation

/// Reads an EC2 offer file (`products` then `terms.OnDemand`) as a stream of JSON events, keeping only
/// the SKUs of the wanted types and their on-demand hourly price: memory stays small however large the file.
public final class AWSOfferFileParser: JSONEventHandler, HTTPBodyConsumer {
    /// One SKU's on-demand hourly price in every currency the file gives.
    public struct SKUPrice: Sendable {
        public var sku: String
        public var perUnit: [String: String]
        public var unit: String
    }

    let wanted: Set<String>
    private var parser: JSONStreamParser<AWSOfferFileParser>!
    /// Keys from the root to the current container; "" for array elements.
    private var path: [String] = []
    private var pendingKey: String?
    /// Depth of a subtree nobody reads (terms.Reserved, attributesList…); 0 when none.
    private var skipDepth = 0

    // products.<sku>
    private var attributes: [String: String] = [:]
    private var productFamily: String?
    private var productSKU = ""
    /// Matching SKU → instance type.
    public private(set) var matched: [String: String] = [:]
    public private(set) var productsSeen = false

    // terms.OnDemand.<sku>.<term>.priceDimensions.<rate>
    private var dimensionUnit = ""
    private var dimensionPrices: [String: String] = [:]
    /// SKU → price, for matched SKUs (or every SKU if the terms come before the products).
    public private(set) var prices: [String: SKUPrice] = [:]
    public private(set) var bytesRead = 0

    public init(wanted: Set<String>) {
        self.wanted = wanted
        parser = JSONStreamParser(handler: self)
    }

    // MARK: HTTPBodyConsumer

    public func consume(_ bytes: UnsafeRawBufferPointer) throws {
        bytesRead += bytes.count
        try parser.feed(bytes)
    }

    public func finish() throws {
        try parser.finish()
    }

    /// Type → (price in `currency`, unit) for every matched SKU; several SKUs of one type keep the first by SKU.
    public func result(currency: String) -> (prices: [String: Decimal], otherCurrencies: Set<String>) {
        var out: [String: Decimal] = [:]
        var other: Set<String> = []
        for (sku, type) in matched.sorted(by: { $0.key < $1.key }) where out[type] == nil {
            guard let p = prices[sku], p.unit == "Hrs" else { continue }
            if let text = p.perUnit[currency], let d = JSONNode.string(text).decimal {
                out[type] = d
            } else {
                other.formUnion(p.perUnit.keys)
            }
        }
        return (out, other)
    }

    // MARK: JSONEventHandler

    private func enter() {
        if skipDepth > 0 { skipDepth += 1; return }
        let key = pendingKey ?? ""
        pendingKey = nil
        path.append(key)
        let d = path.count
        // path[0] is the root (""), path[1] "products"/"terms"/…, then deeper levels.
        if d == 2, key != "products", key != "terms" { skipDepth = 1; path.removeLast(); return }
        if d == 3, path[1] == "terms", key != "OnDemand" { skipDepth = 1; path.removeLast(); return }
        if d == 3, path[1] == "products" {
            productSKU = key; attributes.removeAll(keepingCapacity: true); productFamily = nil
        }
        if d == 4, path[1] == "products", key != "attributes" { skipDepth = 1; path.removeLast(); return }
        if d == 4, path[1] == "terms", !productsSeen || matched[key] != nil {
            // keep reading this SKU's terms
        } else if d == 4, path[1] == "terms" {
            skipDepth = 1; path.removeLast(); return
        }
        if d == 7, path[1] == "terms" { dimensionUnit = ""; dimensionPrices.removeAll(keepingCapacity: true) }
    }

    private func leave() {
        if skipDepth > 0 { skipDepth -= 1; return }
        let d = path.count
        if d == 3, path[1] == "products" {
            if let type = AWSProductFilter.match(attributes, productFamily: productFamily, wanted: wanted) {
                matched[productSKU] = type
            }
        }
        if d == 2, path[1] == "products" { productsSeen = true }
        if d == 7, path[1] == "terms", path[5] == "priceDimensions" {
            let sku = path[3]
            if prices[sku] == nil, !dimensionPrices.isEmpty {
                prices[sku] = SKUPrice(sku: sku, perUnit: dimensionPrices, unit: dimensionUnit)
            }
        }
        path.removeLast()
    }

    public func startObject() { enter() }
    public func startArray() { enter() }
    public func endObject() { leave() }
    public func endArray() { leave() }

    public func key(_ utf8: UnsafeBufferPointer<UInt8>) {
        if skipDepth > 0 { return }
        pendingKey = String(decoding: utf8, as: UTF8.self)
    }

    public func string(_ utf8: UnsafeBufferPointer<UInt8>) {
        if skipDepth > 0 { return }
        defer { pendingKey = nil }
        guard let key = pendingKey else { return }
        let d = path.count
        if d == 4, path[1] == "products", path[3] == "attributes", AWSProductFilter.attributeNames.contains(key) {
            attributes[key] = String(decoding: utf8, as: UTF8.self)
        } else if d == 3, path[1] == "products", key == "productFamily" {
            productFamily = String(decoding: utf8, as: UTF8.self)
        } else if d == 7, path[1] == "terms", key == "unit" {
            dimensionUnit = String(decoding: utf8, as: UTF8.self)
        } else if d == 8, path[1] == "terms", path[7] == "pricePerUnit" {
            dimensionPrices[key] = String(decoding: utf8, as: UTF8.self)
        }
    }

    public func number(_ text: UnsafeBufferPointer<UInt8>) { pendingKey = nil }
    public func literal(_ value: Bool?) { pendingKey = nil }
}
