/** A config.pbtxt that cannot be served; the message names the field and what it must be. */
export const CONFIG_FILE = 'config.pbtxt';

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(`${CONFIG_FILE}: ${message}`);
    this.name = 'ModelConfigError';
  }
}
