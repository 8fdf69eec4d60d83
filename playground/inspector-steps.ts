/** Playground: the inspector — the web page's URL, and the deleted pod's transitions in the CLI. */
import { check, type Narrator } from './narrator.js';

export interface InspectorStepsOptions {
  n: Narrator;
  kubeact(args: string[], opts?: { expectFail?: boolean }): Promise<string>;
}

export async function inspectorSteps({ n, kubeact }: InspectorStepsOptions): Promise<void> {
  await n.step('The inspector: every actor\'s transitions, replayed from the stream (web page and CLI)', async () => {
    const url = (await kubeact(['inspect', '--web'])).trim();
    check(/^http:\/\/127\.\d+\.\d+\.\d+:\d+\/$/.test(url), `kubeact inspect --web printed no URL: ${url}`);
    n.say(`web inspector: ${url}  (open it in a browser; --keep leaves the cluster up)`);
    const out = await kubeact(['inspect', 'pod/hello', '--tail', '6']);
    check(/State:\s+Terminated \(done/.test(out), 'the deleted pod\'s actor did not end in Terminated');
    check(/DELETE\s+Running\s+Terminating/.test(out), 'the DELETE transition is missing');
  });
}
