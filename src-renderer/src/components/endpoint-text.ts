// One endpoint as people read it: the address and port, never clipped for IPv4 and elided in the
// middle for a long IPv6 (the whole of it on hover, when its row is selected, and when copied),
// then the remote host's name (reverse DNS) or the port's service, muted, as room allows.
// `endpointText` draws it; Connections calls it in each row (two a row, each drawn again with every
// change of what is in view: no component instance each), EndpointText is it as a component.
// Its styles are in styles.css (.endpoint).
import { h, type FunctionalComponent, type VNode } from 'vue';
import { serviceName } from '../../../src-main/track/service-names';
import { elideMiddle, printable } from '../../../src-main/shared/printable';
import { endpoint } from '../filter';
import { useNamesStore } from '../stores/names';
import { markedText } from './marked-text';

/** Characters of an endpoint shown before the middle is elided: a full IPv4 endpoint is 21. */
export const ENDPOINT_CHARS = 26;

/**
 * Ports from here up are handed out as the client ends of connections (Linux's ephemeral range
 * starts at 32768, Windows' at 49152): a registered name there would name a random client port.
 */
const EPHEMERAL_FROM = 32768;

export interface EndpointProps {
  address: string | null;
  port: number | null;
  protocol: string;
  /** Look up the address's name (a remote end of this machine's table). */
  named?: boolean;
  /** Show the whole address (a selected row). */
  whole?: boolean;
}

/** One endpoint's elements (see EndpointProps). */
export function endpointText(props: EndpointProps): VNode {
  // A Unix path is anyone's choice of bytes: shown escaped, as the CLI prints it.
  const full = printable(endpoint(props.address, props.port));
  const shown = props.whole ? full : elideMiddle(full, ENDPOINT_CHARS);
  const name = props.named ? useNamesStore().nameOf(props.address) : null;
  const service = props.port === null || props.port >= EPHEMERAL_FROM ? null : serviceName(props.protocol, props.port);
  const suffix = [name, service].filter(Boolean).join(' · ');
  /** Copying an elided endpoint copies all of it (listened for only there: a fan-out shows 200). */
  const copy =
    shown === full
      ? undefined
      : (event: ClipboardEvent) => {
          if (!event.clipboardData) return;
          event.clipboardData.setData('text/plain', full);
          event.preventDefault();
        };
  return h('span', { class: 'endpoint', title: suffix ? `${full} (${suffix})` : full, onCopy: copy }, [
    h('span', { class: 'mono address', 'aria-label': shown === full ? undefined : full }, markedText(shown)),
    name ? h('span', { class: 'muted extra', 'data-testid': 'remote-name' }, name) : null,
    service ? h('span', { class: 'muted extra', 'data-testid': 'endpoint-service' }, service) : null,
  ]);
}

const EndpointText: FunctionalComponent<EndpointProps> = (props) => endpointText(props);
EndpointText.props = {
  address: { type: String, default: null },
  port: { type: Number, default: null },
  protocol: { type: String, required: true },
  named: Boolean,
  whole: Boolean,
};
export default EndpointText;
