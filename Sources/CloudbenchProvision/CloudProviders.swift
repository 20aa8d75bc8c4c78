import CloudbenchCore
import CloudbenchPricing
import Foundation

/// The cloud provider a fleet or a run names, with its credentials from the environment.
/// Credentials missing → an error saying which variables to set (exit 2); never their values.
public enum CloudProviders {
    public static let names = ["aws", "digitalocean", "azure"]

    public static func make(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProvisionProvider {
        switch name {
        case "aws":
            guard let credentials = AWSCredentials.standard(environment) else {
                throw ProvisionError("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or a profile in ~/.aws/credentials (AWS_PROFILE)", status: ExitStatus.badInput.rawValue)
            }
            return AWSProvider(credentials: credentials, environment: environment)
        case "digitalocean":
            guard let token = environment["DIGITALOCEAN_TOKEN"], !token.isEmpty else {
                throw ProvisionError("no DigitalOcean token: set DIGITALOCEAN_TOKEN to a personal access token with read and write scope (docs/provision.md)", status: ExitStatus.badInput.rawValue)
            }
            return try DigitalOceanProvider(token: token, environment: environment)
        case "azure":
            guard let credentials = AzureCredentials.fromEnvironment(environment) else {
                throw ProvisionError("no Azure service principal: set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_SUBSCRIPTION_ID (docs/provision.md)", status: ExitStatus.badInput.rawValue)
            }
            return try AzureProvider(credentials: credentials, environment: environment)
        default:
            throw ProvisionError("provisioning \(name) is not supported; providers: \(names.joined(separator: ", "))", status: ExitStatus.badInput.rawValue)
        }
    }

    /// DigitalOcean and Azure find a run's resources account-wide: regions do not narrow destroy or sweep.
    public static func isGlobal(_ name: String) -> Bool { name == "digitalocean" || name == "azure" }
}
