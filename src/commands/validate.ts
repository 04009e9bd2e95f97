import { Args } from '@oclif/core';
import { ProxyctlCommand } from '../cli/base-command.js';
import { loadConfigFile } from '../config/load.js';

interface ValidateJson {
  file: string;
  listeners: number;
  clusters: number;
  hash: string;
}

export default class Validate extends ProxyctlCommand {
  static override summary = 'Check a config file without starting anything.';
  static override description =
    'Parses the YAML and checks it against the schema, and reads and checks the certificate and key files its tls keys name, the same way `proxyctl reload` does. Every problem is printed as file:line:col: path: message; the exit status is 78 if there is any.';
  static override examples = ['<%= config.bin %> validate /etc/proxyctl/proxyctl.yaml', '<%= config.bin %> validate proxyctl.yaml --json'];

  static override args = {
    file: Args.string({ description: 'The config file to check.', required: true }),
  };

  async run(): Promise<ValidateJson> {
    const { args } = await this.parse(Validate);
    const { config, hash } = await loadConfigFile(args.file);
    if (!this.jsonEnabled()) this.log(`${args.file}: ok`);
    return { file: args.file, listeners: config.listeners.length, clusters: config.clusters.length, hash };
  }
}
