import Foundation

/// Which EC2 products are "the Linux on-demand price of a type": Linux, shared tenancy, no pre-installed
/// software, capacity status "Used", in an AWS Region (not a Local Zone), plain `RunInstances`.
public enum AWSProductFilter {
    /// The attributes the decision reads; the streaming parser keeps only these.
    static let attributeNames: Set<String> = ["instanceType", "operatingSystem", "tenancy", "preInstalledSw",
                                              "capacitystatus", "locationType", "operation", "regionCode",
                                              "marketoption", "licenseModel"]

    /// The instance type if `attributes` describe a wanted Linux on-demand product, else nil.
    public static func match(_ attributes: [String: String], productFamily: String?, wanted: Set<String>) -> String? {
        guard let type = attributes["instanceType"], wanted.contains(type),
              attributes["operatingSystem"] == "Linux",
              attributes["tenancy"] == "Shared",
              attributes["preInstalledSw"] == "NA",
              attributes["capacitystatus"] == "Used" else { return nil }
        // Fields some offer files carry and others omit: when present they must say the plain case.
        if let v = attributes["locationType"], v != "AWS Region" { return nil }
        if let v = attributes["operation"], v != "RunInstances" { return nil }
        if let v = attributes["marketoption"], v != "OnDemand" { return nil }
        if let v = attributes["licenseModel"], v != "No License required" { return nil }
        if let f = productFamily, f != "Compute Instance" { return nil }
        return type
    }
}
