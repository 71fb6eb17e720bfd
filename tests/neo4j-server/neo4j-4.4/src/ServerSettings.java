package quiver.testserver;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.configuration.ssl.ClientAuth;
import org.neo4j.configuration.ssl.SslPolicyConfig;
import org.neo4j.configuration.ssl.SslPolicyScope;
import org.neo4j.harness.Neo4jBuilder;

/**
 * Neo4j 4.4 settings: every listener on 127.0.0.1, auth on, TLS optional. 4.4 has no second Bolt listen
 * address, so the TLS port is a transparent relay to the Bolt port (TLS still ends in Neo4j).
 */
final class ServerSettings {
    private ServerSettings() {}

    static Neo4jBuilder apply(Neo4jBuilder builder, Main.Options options) {
        if (options.tlsPort != options.boltPort) {
            try {
                TcpRelay.start(options.tlsPort, options.boltPort);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot listen on TLS relay port " + options.tlsPort, e);
            }
        }
        SslPolicyConfig bolt = SslPolicyConfig.forScope(SslPolicyScope.BOLT);
        return builder.withConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress("127.0.0.1"))
                .withConfig(GraphDatabaseSettings.default_advertised_address, new SocketAddress("127.0.0.1"))
                .withConfig(GraphDatabaseSettings.auth_enabled, true)
                .withConfig(GraphDatabaseSettings.routing_enabled, false)
                .withConfig(GraphDatabaseSettings.pagecache_memory, "64m")
                .withConfig(BoltConnector.enabled, true)
                .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", options.boltPort))
                .withConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", options.boltPort))
                .withConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.OPTIONAL)
                .withConfig(bolt.enabled, true)
                .withConfig(bolt.base_directory, options.tlsDir)
                .withConfig(bolt.private_key, options.tlsDir.resolve(Tls.PRIVATE_KEY))
                .withConfig(bolt.public_certificate, options.tlsDir.resolve(Tls.CERTIFICATE))
                .withConfig(bolt.client_auth, ClientAuth.NONE);
    }
}
