//! des-azure against Azurite: the port contract suites and Azure-only behaviour.
