package quiver.testserver;

import java.util.Set;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.configuration.ssl.ClientAuth;
import org.neo4j.configuration.ssl.SslPolicyConfig;
import org.neo4j.configuration.ssl.SslPolicyScope;
import org.neo4j.harness.Neo4jBuilder;

/** Neo4j 2026.x settings (same API as 5.26): every listener on 127.0.0.1, auth on, TLS optional on both Bolt ports. */
final class ServerSettings {
    private ServerSettings() {}

    static Neo4jBuilder apply(Neo4jBuilder builder, Main.Options options) {
        SslPolicyConfig bolt = SslPolicyConfig.forScope(SslPolicyScope.BOLT);
        return builder.withConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress("127.0.0.1"))
                .withConfig(GraphDatabaseSettings.default_advertised_address, new SocketAddress("127.0.0.1"))
                .withConfig(GraphDatabaseSettings.auth_enabled, true)
                // Server-side routing opens another connector (default port 7688); the tests need none.
                .withConfig(GraphDatabaseSettings.routing_enabled, false)
                .withConfig(GraphDatabaseSettings.pagecache_memory, 64L * 1024 * 1024)
                .withConfig(BoltConnector.enabled, true)
                .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", options.boltPort))
                .withConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", options.boltPort))
                // Neo4j has one Bolt connector; a second address gives tests a port of their own for TLS.
                // Encryption is per connector, so both ports accept plain and TLS connections.
                .withConfig(
                        BoltConnector.additional_listen_addresses,
                        Set.of(new SocketAddress("127.0.0.1", options.tlsPort)))
                .withConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.OPTIONAL)
                .withConfig(bolt.enabled, true)
                .withConfig(bolt.base_directory, options.tlsDir)
                .withConfig(bolt.private_key, options.tlsDir.resolve(Tls.PRIVATE_KEY))
                .withConfig(bolt.public_certificate, options.tlsDir.resolve(Tls.CERTIFICATE))
                .withConfig(bolt.client_auth, ClientAuth.NONE);
    }
}
