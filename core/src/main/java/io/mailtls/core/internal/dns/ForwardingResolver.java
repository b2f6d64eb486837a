package io.mailtls.core.internal.dns;

import java.time.Duration;
import java.util.List;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TSIG;

/**
 * A resolver that stands between dnsjava's validator and the upstream resolver: every setting is
 * the upstream's, so a layer only says how it answers queries.
 */
abstract class ForwardingResolver implements Resolver {

  protected final Resolver upstream;

  ForwardingResolver(Resolver upstream) {
    this.upstream = upstream;
  }

  @Override
  public void setPort(int port) {
    upstream.setPort(port);
  }

  @Override
  public void setTCP(boolean flag) {
    upstream.setTCP(flag);
  }

  @Override
  public void setIgnoreTruncation(boolean flag) {
    upstream.setIgnoreTruncation(flag);
  }

  @Override
  public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
    upstream.setEDNS(version, payloadSize, flags, options);
  }

  @Override
  public void setTSIGKey(TSIG key) {
    upstream.setTSIGKey(key);
  }

  @Override
  public void setTimeout(Duration timeout) {
    upstream.setTimeout(timeout);
  }

  @Override
  public Duration getTimeout() {
    return upstream.getTimeout();
  }
}
