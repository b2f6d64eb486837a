package io.mailtls.benchmarks;

import jakarta.mail.Session;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.security.KeyStore;
import java.util.Properties;
import javax.net.SocketFactory;

/**
 * Angus Mail set up as an application that verifies its relay would: STARTTLS required, the
 * server's certificate checked against the same trust store and host name as mailtls checks ({@code
 * mail.smtp.ssl.checkserveridentity}), the EHLO name given. With {@code noDelay}, its plain sockets
 * come from a factory that sets {@code TCP_NODELAY} (Angus has no property for it; the STARTTLS
 * layer sits on that socket).
 */
final class Angus {

  private Angus() {}

  static Session session(KeyStore trust, int port, boolean noDelay) {
    Properties p = new Properties();
    p.put("mail.transport.protocol", "smtp");
    p.put("mail.smtp.host", "localhost");
    p.put("mail.smtp.port", Integer.toString(port));
    p.put("mail.smtp.localhost", Mailtls.HELO);
    p.put("mail.smtp.starttls.enable", "true");
    p.put("mail.smtp.starttls.required", "true");
    p.put("mail.smtp.ssl.checkserveridentity", "true");
    p.put("mail.smtp.ssl.socketFactory", Mailtls.sslContext(trust).getSocketFactory());
    p.put("mail.smtp.connectiontimeout", "30000");
    p.put("mail.smtp.timeout", "60000");
    if (noDelay) {
      p.put("mail.smtp.socketFactory", new NoDelaySocketFactory());
      p.put("mail.smtp.socketFactory.fallback", "false");
    }
    return Session.getInstance(p);
  }

  /** Plain sockets with TCP_NODELAY set before they connect. */
  static final class NoDelaySocketFactory extends SocketFactory {
    @Override
    public Socket createSocket() throws IOException {
      Socket s = new Socket();
      s.setTcpNoDelay(true);
      return s;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      Socket s = new Socket(host, port);
      s.setTcpNoDelay(true);
      return s;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress local, int localPort)
        throws IOException {
      Socket s = new Socket(host, port, local, localPort);
      s.setTcpNoDelay(true);
      return s;
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      Socket s = new Socket(host, port);
      s.setTcpNoDelay(true);
      return s;
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress local, int localPort)
        throws IOException {
      Socket s = new Socket(address, port, local, localPort);
      s.setTcpNoDelay(true);
      return s;
    }
  }
}
