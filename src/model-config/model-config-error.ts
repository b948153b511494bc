/** A config.pbtxt that cannot be served; the message names the field and what it must be. */
export const CONFIG_FILE = 'config.pbtxt';

export class ModelConfigError extends Error {
  /** `message` without the name of where the config came from. */
  readonly detail: string;

  /** `source`: where the config came from (config.pbtxt, or a load request's `config` parameter). */
  constructor(message: string, source = CONFIG_FILE) {
    super(`${source}: ${message}`);
    this.name = 'ModelConfigError';
    this.detail = message;
  }
}
