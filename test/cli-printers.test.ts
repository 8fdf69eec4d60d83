// RFC 1123 times in describe are local times, as kubectl prints them: pin the zone.
process.env.TZ = 'UTC';

import t from 'tap';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, CauseType, Reason } from '../protocol/errors.js';
import type { KubeObject } from '../protocol/objects.js';
import { describe, formatRFC1123Z, smartLabelFor } from '../nodes/cli/describe.js';
import { formatAge, formatApiError, humanDuration, podSummary, printTable, tabwrite, toJson, toYaml, TABLE_TABWRITER } from '../nodes/cli/printers.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace('.000Z', 'Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

const obj = <T>(o: T) => o as unknown as KubeObject;

// ---------------------------------------------------------------------------------------
// Fixtures

const runningPod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(5 * M), labels: { app: 'web', tier: 'front' }, uid: 'u1' },
  spec: {
    nodeName: 'node-1',
    containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
  },
  status: {
    phase: 'Running',
    hostIP: '127.0.1.1',
    podIP: '10.244.1.5',
    podIPs: [{ ip: '10.244.1.5' }],
    startTime: ago(5 * M),
    conditions: [
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: 'True' },
      { type: 'ContainersReady', status: 'True' },
      { type: 'PodScheduled', status: 'True' },
    ],
    containerStatuses: [
      {
        name: 'nginx',
        image: 'nginx:1.25',
        imageID: 'nginx@sha256:abc',
        containerID: 'kubeact://c1',
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: ago(4 * M + 50 * S) } },
      },
    ],
  },
};

const crashPod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'crasher', namespace: 'default', creationTimestamp: ago(10 * M) },
  spec: { nodeName: 'node-2', containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'exit 1'] }] },
  status: {
    phase: 'Running',
    podIP: '10.244.2.7',
    podIPs: [{ ip: '10.244.2.7' }],
    containerStatuses: [
      {
        name: 'app',
        image: 'busybox',
        imageID: '',
        ready: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: ago(46 * S), finishedAt: ago(45 * S) } },
      },
    ],
  },
};

const pendingPod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'waiting-for-a-node', namespace: 'default', creationTimestamp: ago(2 * H + 5 * M) },
  spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] },
  status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
};

const terminatingPod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'going', namespace: 'kube-system', creationTimestamp: ago(3 * D + 4 * H), deletionTimestamp: ago(-20 * S), deletionGracePeriodSeconds: 30 },
  spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'x' }] },
  status: {
    phase: 'Running',
    containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: ago(3 * D) } } }],
  },
};

const readyNode: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'node-1',
    creationTimestamp: ago(2 * D + 3 * H),
    labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'node-1' },
  },
  spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] },
  status: {
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: ago(10 * S), lastTransitionTime: ago(2 * D) }],
    addresses: [
      { type: 'InternalIP', address: '127.0.1.1' },
      { type: 'Hostname', address: 'node-1' },
    ],
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
    nodeInfo: {
      machineID: 'm',
      systemUUID: 's',
      bootID: 'b',
      kernelVersion: '6.1.0',
      osImage: 'Debian GNU/Linux 12',
      containerRuntimeVersion: 'kubeact://0.1.0',
      kubeletVersion: 'v1.32.0-kubeact',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  },
};

const cordonedNode: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node-2', creationTimestamp: ago(45 * S) },
  spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] },
  status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0-kubeact' } as any },
};

const notReadyNode: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node-3', creationTimestamp: ago(400 * D) },
  status: { conditions: [{ type: 'Ready', status: 'Unknown' }], nodeInfo: { kubeletVersion: 'v1.32.0-kubeact' } as any },
};

// ---------------------------------------------------------------------------------------

t.test('HumanDuration boundaries (k8s.io/apimachinery/pkg/util/duration)', async (t) => {
  const cases: Array<[number, string]> = [
    [-2 * S, '<invalid>'],
    [-1999, '0s'],
    [-1 * S, '0s'],
    [0, '0s'],
    [999, '0s'],
    [45 * S, '45s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [2 * M + 10 * S, '2m10s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M, '10m'],
    [10 * M + 30 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 5 * M, '3h5m'],
    [7 * H + 59 * M, '7h59m'],
    [8 * H, '8h'],
    [47 * H + 59 * M, '47h'],
    [2 * D, '2d'],
    [2 * D + 3 * H, '2d3h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D, '8d'],
    [30 * D, '30d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [2 * 365 * D + 100 * D, '2y100d'],
    [8 * 365 * D - 1, '7y364d'],
    [8 * 365 * D, '8y'],
    [20 * 365 * D + 5 * D, '20y'],
  ];
  for (const [ms, want] of cases) t.equal(humanDuration(ms), want, `${ms}ms`);
  t.equal(formatAge(ago(45 * S), NOW), '45s');
  t.equal(formatAge('2024-05-01T11:59:15.123456Z', NOW), '44s', 'MicroTime');
  t.equal(formatAge(undefined, NOW), '<unknown>');
});

t.test('tabwriter matches Go text/tabwriter', async (t) => {
  // A line without a tab ends the column blocks above it.
  const text = 'a:\tb\nlonger:\tc\nno tabs here\nx:\ty\n';
  t.equal(tabwrite(text, { minwidth: 0, padding: 2 }), 'a:       b\nlonger:  c\nno tabs here\nx:  y\n');
  // minwidth applies to every column; the last cell is never padded.
  t.equal(tabwrite('A\tB\tC\nxx\t\tz\n', TABLE_TABWRITER), 'A     B     C\nxx          z\n');
});

t.test('pod table', async (t) => {
  const pods = [runningPod, crashPod, pendingPod, terminatingPod].map(obj);
  t.equal(
    printTable('Pod', pods, { now: NOW }),
    [
      'NAME                 READY   STATUS             RESTARTS      AGE',
      'web                  1/1     Running            0             5m',
      'crasher              0/1     CrashLoopBackOff   3 (45s ago)   10m',
      'waiting-for-a-node   0/2     Pending            0             125m',
      'going                1/1     Terminating        0             3d4h',
      '',
    ].join('\n'),
  );
  t.equal(
    printTable('Pod', pods, { now: NOW, wide: true, allNamespaces: true }),
    [
      'NAMESPACE     NAME                 READY   STATUS             RESTARTS      AGE    IP           NODE     NOMINATED NODE   READINESS GATES',
      'default       web                  1/1     Running            0             5m     10.244.1.5   node-1   <none>           <none>',
      'default       crasher              0/1     CrashLoopBackOff   3 (45s ago)   10m    10.244.2.7   node-2   <none>           <none>',
      'default       waiting-for-a-node   0/2     Pending            0             125m   <none>       <none>   <none>           <none>',
      'kube-system   going                1/1     Terminating        0             3d4h   <none>       node-1   <none>           <none>',
      '',
    ].join('\n'),
  );
  t.equal(
    printTable('Pod', [obj(runningPod), obj(crashPod)], { now: NOW, showLabels: true, noHeaders: true }),
    ['web       1/1   Running            0             5m    app=web,tier=front', 'crasher   0/1   CrashLoopBackOff   3 (45s ago)   10m   <none>', ''].join('\n'),
  );
  t.equal(printTable('Pod', [], { now: NOW }), '', 'an empty list prints nothing');
});

t.test('pod STATUS follows kubectl printPod', async (t) => {
  const base = (status: Pod['status'], extra: Partial<Pod> = {}): Pod => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] }, status, ...extra });
  const cs = (state: any, more: any = {}) => ({ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 0, state, ...more });
  t.equal(podSummary(base({ phase: 'Pending', containerStatuses: [cs({ waiting: { reason: 'ContainerCreating' } })] })).status, 'ContainerCreating');
  t.equal(podSummary(base({ phase: 'Running', containerStatuses: [cs({ waiting: { reason: 'RunContainerError' } })] })).status, 'RunContainerError');
  t.equal(podSummary(base({ phase: 'Succeeded', containerStatuses: [cs({ terminated: { exitCode: 0, reason: 'Completed' } })] })).status, 'Completed');
  t.equal(podSummary(base({ phase: 'Failed', containerStatuses: [cs({ terminated: { exitCode: 2, reason: 'Error' } })] })).status, 'Error');
  t.equal(podSummary(base({ phase: 'Failed', containerStatuses: [cs({ terminated: { exitCode: 137 } })] })).status, 'ExitCode:137');
  t.equal(podSummary(base({ phase: 'Failed', containerStatuses: [cs({ terminated: { exitCode: 0, signal: 9 } })] })).status, 'Signal:9');
  t.equal(podSummary(base(undefined)).status, 'Pending', 'no status yet: Pending');
  t.equal(podSummary(base({ phase: 'Failed', reason: 'Evicted' })).status, 'Evicted');
  // A finished pod being deleted keeps its terminal status.
  t.equal(podSummary(base({ phase: 'Succeeded' }, { metadata: { name: 'p', deletionTimestamp: ago(0) } })).status, 'Succeeded');
  // Init containers.
  const init = (s: any): Pod => ({
    metadata: { name: 'p' },
    spec: { initContainers: [{ name: 'i1', image: 'i' }, { name: 'i2', image: 'i' }], containers: [{ name: 'c', image: 'i' }] },
    status: { phase: 'Pending', initContainerStatuses: s },
  });
  t.equal(podSummary(init([cs({ terminated: { exitCode: 0 } }, { name: 'i1' }), cs({ running: {} }, { name: 'i2' })])).status, 'Init:1/2');
  t.equal(podSummary(init([cs({ terminated: { exitCode: 1, reason: 'Error' } }, { name: 'i1', restartCount: 2 })])).status, 'Init:Error');
  t.equal(podSummary(init([cs({ waiting: { reason: 'CrashLoopBackOff' } }, { name: 'i1' })])).status, 'Init:CrashLoopBackOff');
});

t.test('node table', async (t) => {
  const nodes = [readyNode, cordonedNode, notReadyNode].map(obj);
  t.equal(
    printTable('Node', nodes, { now: NOW, allNamespaces: true }),
    [
      'NAME     STATUS                     ROLES           AGE    VERSION',
      'node-1   Ready                      control-plane   2d3h   v1.32.0-kubeact',
      'node-2   Ready,SchedulingDisabled   <none>          45s    v1.32.0-kubeact',
      'node-3   NotReady                   <none>          400d   v1.32.0-kubeact',
      '',
    ].join('\n'),
    'no NAMESPACE column for cluster-scoped kinds',
  );
  t.equal(
    printTable('Node', [obj(readyNode)], { now: NOW, wide: true }),
    [
      'NAME     STATUS   ROLES           AGE    VERSION           INTERNAL-IP   EXTERNAL-IP   OS-IMAGE              KERNEL-VERSION   CONTAINER-RUNTIME',
      'node-1   Ready    control-plane   2d3h   v1.32.0-kubeact   127.0.1.1     <none>        Debian GNU/Linux 12   6.1.0            kubeact://0.1.0',
      '',
    ].join('\n'),
  );
});

t.test('namespace, lease and event tables', async (t) => {
  const ns = [
    { kind: 'Namespace', metadata: { name: 'default', creationTimestamp: ago(3 * D) }, status: { phase: 'Active' } },
    { kind: 'Namespace', metadata: { name: 'kube-node-lease', creationTimestamp: ago(3 * D) }, status: { phase: 'Active' } },
  ];
  t.equal(printTable('Namespace', ns, { now: NOW }), 'NAME              STATUS   AGE\ndefault           Active   3d\nkube-node-lease   Active   3d\n');
  const leases = [{ kind: 'Lease', metadata: { name: 'node-1', namespace: 'kube-node-lease', creationTimestamp: ago(2 * D) }, spec: { holderIdentity: 'node-1' } }];
  t.equal(printTable('Lease', leases, { now: NOW, allNamespaces: true }), 'NAMESPACE         NAME     HOLDER   AGE\nkube-node-lease   node-1   node-1   2d\n');
  const events = [
    {
      kind: 'Event',
      metadata: { name: 'web.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web' },
      type: 'Normal',
      reason: 'Scheduled',
      message: 'Successfully assigned default/web to node-1',
      count: 1,
      firstTimestamp: ago(5 * M),
      lastTimestamp: ago(5 * M),
      source: { component: 'default-scheduler' },
    },
    {
      kind: 'Event',
      metadata: { name: 'crasher.2', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'crasher' },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container app in pod crasher_default(u2)\n',
      count: 5,
      firstTimestamp: ago(9 * M),
      lastTimestamp: ago(30 * S),
      source: { component: 'kubelet', host: 'node-2' },
    },
  ];
  t.equal(
    printTable('Event', events, { now: NOW }),
    [
      'LAST SEEN   TYPE      REASON      OBJECT        MESSAGE',
      '5m          Normal    Scheduled   pod/web       Successfully assigned default/web to node-1',
      '30s         Warning   BackOff     pod/crasher   Back-off restarting failed container app in pod crasher_default(u2)',
      '',
    ].join('\n'),
  );
  t.match(printTable('Event', events, { now: NOW, wide: true }), /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+SUBOBJECT\s+SOURCE\s+MESSAGE\s+FIRST SEEN\s+COUNT\s+NAME\n/);
  t.match(printTable('Event', events, { now: NOW, wide: true }), /kubelet, node-2\s+Back-off .*\s+9m\s+5\s+crasher\.2\n$/);
});

t.test('-o yaml and -o json', async (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', creationTimestamp: '2024-05-01T12:00:00Z', labels: { on: 'yes' } }, spec: { containers: [{ name: 'c', image: 'nginx', args: ['a', '1'] }] } };
  t.equal(
    toYaml(pod),
    [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: web',
      '  creationTimestamp: "2024-05-01T12:00:00Z"',
      '  labels:',
      '    "on": "yes"',
      'spec:',
      '  containers:',
      '  - name: c',
      '    image: nginx',
      '    args:',
      '    - a',
      '    - "1"',
      '',
    ].join('\n'),
    'keys in the object order, sequences like kubectl, 1.1-ambiguous strings quoted',
  );
  const list = toYaml([pod, pod]);
  t.match(list, /^apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n/);
  t.match(list, /\nmetadata:\n  resourceVersion: ""\n$/);
  t.equal(toJson({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }), '{\n    "apiVersion": "v1",\n    "kind": "Namespace",\n    "metadata": {\n        "name": "a"\n    }\n}\n');
  t.same(JSON.parse(toJson([pod])), { apiVersion: 'v1', kind: 'List', items: [pod], metadata: { resourceVersion: '' } });
});

t.test('formatApiError', async (t) => {
  t.equal(formatApiError(ApiError.notFound('Pod', 'web')), 'Error from server (NotFound): pods "web" not found');
  t.equal(formatApiError(ApiError.alreadyExists('Pod', 'web')), 'Error from server (AlreadyExists): pods "web" already exists');
  t.equal(
    formatApiError(ApiError.alreadyExists('Pod', 'web'), { verb: 'creating', source: 'pod.yaml' }),
    'Error from server (AlreadyExists): error when creating "pod.yaml": pods "web" already exists',
  );
  t.match(formatApiError(ApiError.conflict('Pod', 'web')), /^Error from server \(Conflict\): Operation cannot be fulfilled on pods "web": the object has been modified/);
  const invalid = ApiError.invalid('Pod', 'web', [
    { reason: CauseType.Required, field: 'spec.containers[0].image', message: 'Required value' },
    { reason: CauseType.Invalid, field: 'metadata.name', message: 'Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters' },
    { reason: CauseType.NotSupported, field: 'spec.restartPolicy', message: 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"' },
  ]);
  t.equal(
    formatApiError(invalid),
    [
      'The Pod "web" is invalid: ',
      '* spec.containers[0].image: Required value',
      '* metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters',
      '* spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
    ].join('\n'),
  );
  t.equal(
    formatApiError(ApiError.invalid('Pod', 'web', [{ reason: CauseType.Required, field: 'spec.containers[0].image', message: 'Required value' }])),
    'The Pod "web" is invalid: spec.containers[0].image: Required value',
  );
  // Through the wire, as the CLI receives it.
  t.match(formatApiError(ApiError.fromWire(invalid.toWire())), /^The Pod "web" is invalid: \n\* spec.containers\[0\].image: Required value\n/);
  const noServer = new ApiError(Reason.ServiceUnavailable, 'no server answers on kubeact.api.pods.get: is the control plane running?', { cause: new Error('503') });
  t.equal(formatApiError(noServer), 'Unable to connect to the server: no server answers on kubeact.api.pods.get: is the control plane running?');
  t.equal(formatApiError(new ApiError(Reason.Timeout, 'request on kubeact.api.pods.list timed out after 10000 ms', { cause: new Error('TIMEOUT') })), 'Unable to connect to the server: request on kubeact.api.pods.list timed out after 10000 ms');
  t.equal(formatApiError(ApiError.fromWire({ reason: 'ServiceUnavailable', code: 503, message: 'store is starting' })), 'Error from server (ServiceUnavailable): store is starting');
});

t.test('describe pod', async (t) => {
  const events: Event[] = [
    {
      metadata: { name: 'e2' },
      involvedObject: { kind: 'Pod', name: 'crasher' },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container app',
      count: 5,
      firstTimestamp: ago(9 * M),
      lastTimestamp: ago(30 * S),
      source: { component: 'kubelet', host: 'node-2' },
    },
    {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Pod', name: 'crasher' },
      type: 'Normal',
      reason: 'Scheduled',
      message: 'Successfully assigned default/crasher to node-2',
      count: 1,
      firstTimestamp: ago(10 * M),
      lastTimestamp: ago(10 * M),
      source: { component: 'default-scheduler' },
    },
  ];
  const pod: Pod = {
    ...crashPod,
    spec: {
      ...crashPod.spec!,
      priority: 0,
      containers: [
        {
          name: 'app',
          image: 'busybox',
          command: ['sh', '-c', 'exit 1'],
          args: ['--verbose'],
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'MODE', value: 'test' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
        },
      ],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: { ...crashPod.status!, hostIP: '127.0.1.2', startTime: '2024-05-01T11:50:00Z', conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] },
  };
  const out = describe('Pod', obj(pod), events, NOW);
  const lines = out.split('\n');
  const has = (line: string) => t.ok(lines.includes(line), `has line ${JSON.stringify(line)}`);
  has('Name:         crasher');
  has('Namespace:    default');
  has('Priority:     0');
  has('Node:         node-2/127.0.1.2');
  has('Start Time:   Wed, 01 May 2024 11:50:00 +0000');
  has('Labels:       <none>');
  has('Status:       Running');
  has('IP:           10.244.2.7');
  has('IPs:');
  has('  IP:  10.244.2.7');
  has('Containers:');
  has('  app:');
  has('    Container ID:  ');
  has('    Image:         busybox');
  has('    Port:          8080/TCP');
  has('    Host Port:     0/TCP');
  has('    Command:');
  has('      sh');
  has('    Args:');
  has('      --verbose');
  has('    State:          Waiting');
  has('      Reason:       CrashLoopBackOff');
  has('    Last State:     Terminated');
  has('      Reason:       Error');
  has('      Exit Code:    1');
  has('      Finished:     Wed, 01 May 2024 11:59:15 +0000');
  has('    Ready:          False');
  has('    Restart Count:  3');
  has('    Limits:');
  has('      memory:  128Mi');
  has('    Requests:');
  has('      cpu:     100m');
  has('      memory:  64Mi');
  has('    Environment:');
  has('      MODE:      test');
  has('      POD_NAME:  crasher (v1:metadata.name)');
  has('    Mounts:      <none>');
  has('Conditions:');
  has('  Type           Status');
  has('  Ready          False ');
  has('  PodScheduled   True ');
  has('Volumes:         <none>');
  has('QoS Class:       Burstable');
  has('Node-Selectors:  <none>');
  has('Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s');
  has('Events:');
  has('  Type     Reason     Age               From               Message');
  has('  ----     ------     ----              ----               -------');
  // Sorted by time: the older Scheduled first; repeats as `30s (x5 over 9m)`.
  t.ok(out.indexOf('Normal   Scheduled') < out.indexOf('Warning  BackOff'), 'events sorted by time');
  has('  Normal   Scheduled  10m               default-scheduler  Successfully assigned default/crasher to node-2');
  has('  Warning  BackOff    30s (x5 over 9m)  kubelet            Back-off restarting failed container app');
  t.ok(out.endsWith('\n'));

  const quiet = describe('Pod', obj(runningPod), [], NOW);
  t.match(quiet, /\nQoS Class:\s+Burstable\n/);
  t.match(quiet, /\nEvents:\s+<none>\n$/);
  t.match(quiet, /\nLabels:\s+app=web\n\s+tier=front\n/);
  t.match(quiet, /\n    State:          Running\n      Started:      Wed, 01 May 2024 11:55:10 \+0000\n/);
  t.match(describe('Pod', obj(terminatingPod), [], NOW), /\nStatus:\s+Terminating \(lasts 20s\)\nTermination Grace Period:\s+30s\n/);
  t.match(describe('Pod', obj(pendingPod), [], NOW), /\nNode:\s+<none>\n/);
  t.match(describe('Pod', obj(pendingPod), [], NOW), /\nQoS Class:\s+BestEffort\n/);
});

t.test('describe node', async (t) => {
  const lease = { metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'node-1', renewTime: '2024-05-01T11:59:50.000000Z' } };
  const pods = [runningPod, { ...crashPod, spec: { ...crashPod.spec!, nodeName: 'node-1' } }, { ...pendingPod, spec: { ...pendingPod.spec!, nodeName: 'node-1' }, status: { phase: 'Succeeded' } }];
  const out = describe('Node', obj(readyNode), [], NOW, { lease: lease as any, pods: pods as Pod[] });
  const lines = out.split('\n');
  const has = (line: string) => t.ok(lines.includes(line), `has line ${JSON.stringify(line)}`);
  has('Name:               node-1');
  has('Roles:              control-plane');
  has('Labels:             kubernetes.io/hostname=node-1');
  has('                    node-role.kubernetes.io/control-plane=');
  has('Annotations:        <none>');
  has('CreationTimestamp:  Mon, 29 Apr 2024 09:00:00 +0000');
  has('Taints:             <none>');
  has('Unschedulable:      false');
  has('Lease:');
  has('  HolderIdentity:  node-1');
  has('  AcquireTime:     <unset>');
  has('  RenewTime:       Wed, 01 May 2024 11:59:50 +0000');
  has('  Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason         Message');
  has('  Ready   True    Wed, 01 May 2024 11:59:50 +0000   Mon, 29 Apr 2024 12:00:00 +0000   KubeletReady   kubelet is posting ready status');
  has('Addresses:');
  has('  InternalIP:  127.0.1.1');
  has('  Hostname:    node-1');
  has('Capacity:');
  has('  cpu:     4');
  has('  memory:  8Gi');
  has('  pods:    110');
  has('System Info:');
  has('  Kubelet Version:            v1.32.0-kubeact');
  has('PodCIDR:                      10.244.1.0/24');
  has('Non-terminated Pods:          (2 in total)');
  has('  default                     web        100m (2%)     0 (0%)      64Mi (0%)        0 (0%)         5m');
  has('  ephemeral-storage  0 (0%)     0 (0%)');
  has('  cpu                100m (2%)  0 (0%)');
  has('  memory             64Mi (0%)  0 (0%)');
  has('Events:              <none>');

  const cordoned = describe('Node', obj(cordonedNode), [], NOW);
  t.match(cordoned, /\nTaints:\s+node.kubernetes.io\/unschedulable:NoSchedule\nUnschedulable:\s+true\n/);
  t.notMatch(cordoned, /Lease:/, 'no Lease section unless given');
});

t.test('describe namespace and the generic describer', async (t) => {
  t.equal(
    describe('Namespace', { kind: 'Namespace', metadata: { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } }, status: { phase: 'Active' } }, [], NOW),
    'Name:         default\nLabels:       kubernetes.io/metadata.name=default\nAnnotations:  <none>\nStatus:       Active\n',
  );
  const lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'node-1', namespace: 'kube-node-lease', uid: 'abc', resourceVersion: '12' },
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2024-05-01T11:59:50.000000Z' },
  };
  t.equal(
    describe('Lease', lease, [], NOW),
    [
      'Name:         node-1',
      'Namespace:    kube-node-lease',
      'Labels:       <none>',
      'Annotations:  <none>',
      'API Version:  coordination.k8s.io/v1',
      'Kind:         Lease',
      'Metadata:',
      '  Resource Version:  12',
      '  UID:               abc',
      'Spec:',
      '  Holder Identity:         node-1',
      '  Lease Duration Seconds:  40',
      '  Renew Time:              2024-05-01T11:59:50.000000Z',
      'Events:                    <none>',
      '',
    ].join('\n'),
  );
  t.equal(smartLabelFor('podCIDR'), 'Pod CIDR');
  t.equal(smartLabelFor('apiVersion'), 'API Version');
  t.equal(smartLabelFor('node-role.kubernetes.io/x'), 'node-role.kubernetes.io/x');
  t.equal(formatRFC1123Z('2024-01-02T03:04:05Z'), 'Tue, 02 Jan 2024 03:04:05 +0000');
});
