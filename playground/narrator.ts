/** Step-by-step narration for the playground: each step says what it does and whether it held. */
export class StepFailed extends Error {
  override readonly name = 'StepFailed';
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

export class Narrator {
  private n = 0;
  readonly started = Date.now();

  async step<T>(title: string, body: () => Promise<T>): Promise<T> {
    this.n++;
    const t0 = Date.now();
    console.log(`\n\x1b[1m[${this.n}] ${title}\x1b[0m`);
    try {
      const out = await body();
      console.log(`    \x1b[32m✔ ok\x1b[0m (${Date.now() - t0} ms)`);
      return out;
    } catch (e) {
      throw e instanceof StepFailed ? e : new StepFailed(`[${this.n}] ${title}`, (e as Error).message);
    }
  }

  say(text: string): void {
    for (const line of text.replace(/\n$/, '').split('\n')) console.log(`    ${line}`);
  }

  command(args: string[], output: string): void {
    console.log(`    $ kubeact ${args.join(' ')}`);
    for (const line of output.replace(/\n$/, '').split('\n')) if (line) console.log(`      ${line}`);
  }
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
