// Picks the collector for this platform: the only place that asks which OS this is.

import type { Collector } from './collector';
import { LinuxCollector } from './linux/linux-collector';
import { SystemInformationCollector } from './systeminformation';

export type { Collector, Scan } from './collector';

export function createCollector(platform: NodeJS.Platform = process.platform): Collector {
  return platform === 'linux' ? new LinuxCollector() : new SystemInformationCollector();
}
