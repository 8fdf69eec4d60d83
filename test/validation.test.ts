import t from 'tap';
import { parse } from 'yaml';
import { ApiError, CauseType, Reason, type FieldCause } from '../protocol/errors.js';
import type { KubeObject } from '../protocol/objects.js';
import { KIND_NAMES } from '../protocol/kinds.js';
import {
  MAX_OBJECT_BYTES,
  POD_UPDATE_FORBIDDEN,
  TOTAL_ANNOTATION_SIZE_LIMIT,
  assertValidObject,
  checkObjectSize,
  objectSize,
  validateObject,
} from '../protocol/validation/index.js';

const NGINX = `
apiVersion: v1
kind: Pod
metadata:
  name: nginx
  namespace: default
  labels:
    app: nginx
    app.kubernetes.io/name: nginx
    tier: ""
  annotations:
    kubernetes.io/description: web server
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 30
  nodeSelector:
    kubernetes.io/os: linux
  initContainers:
    - name: init-html
      image: busybox:1.36
      command: [sh, -c, "echo hello > /html/index.html"]
      volumeMounts:
        - name: html
          mountPath: /html
  containers:
    - name: nginx
      image: nginx:1.27
      imagePullPolicy: IfNotPresent
      command: [nginx]
      args: ["-g", "daemon off;"]
      workingDir: /usr/share/nginx
      ports:
        - name: http
          containerPort: 80
          protocol: TCP
        - name: https
          containerPort: 443
      env:
        - name: NGINX_PORT
          value: "80"
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: APP_LABEL
          valueFrom:
            fieldRef:
              fieldPath: metadata.labels['app']
        - name: MEM_LIMIT
          valueFrom:
            resourceFieldRef:
              resource: limits.memory
      resources:
        requests:
          cpu: 100m
          memory: 64Mi
        limits:
          cpu: "1"
          memory: 128Mi
      readinessProbe:
        httpGet:
          path: /
          port: http
        initialDelaySeconds: 2
        periodSeconds: 5
      livenessProbe:
        tcpSocket:
          port: 80
        periodSeconds: 10
        failureThreshold: 3
        successThreshold: 1
      startupProbe:
        exec:
          command: [cat, /etc/nginx/nginx.conf]
        failureThreshold: 30
        periodSeconds: 1
      volumeMounts:
        - name: html
          mountPath: /usr/share/nginx/html
          readOnly: true
  volumes:
    - name: html
      emptyDir: {}
  tolerations:
    - key: node.kubernetes.io/not-ready
      operator: Exists
      effect: NoExecute
      tolerationSeconds: 300
`;

function nginx(): any {
  return parse(NGINX);
}

/** A minimal valid pod, mutated by `edit`. */
function pod(edit: (p: any) => void = () => {}): any {
  const p: any = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } };
  edit(p);
  return p;
}

const c0 = (p: any) => p.spec.containers[0];
type Tap = Pick<typeof t, 'same' | 'equal' | 'match'>;
const brief = (causes: FieldCause[]) => causes.map((c) => `${c.reason} ${c.field}`);

/** Exactly one cause, on `field` with `reason` (and `message` when given). */
function one(t: Tap, obj: unknown, field: string, reason: CauseType, message?: string | RegExp, old?: KubeObject): void {
  const causes = validateObject(obj, old);
  t.same(brief(causes), [`${reason} ${field}`], `one ${reason} on ${field}`);
  if (message !== undefined && causes.length === 1) {
    if (typeof message === 'string') t.equal(causes[0].message, message);
    else t.match(causes[0].message, message);
  }
}

function none(t: Tap, obj: unknown, old?: KubeObject): void {
  t.same(validateObject(obj, old), [], 'no causes');
}


const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

t.test('a real-world nginx pod is valid', async (t) => {
  none(t, nginx());
  none(t, pod());
});

t.test('six mistakes, six causes, all at once', async (t) => {
  const p = nginx();
  p.metadata.name = 'Foo_Bar';
  delete c0(p).image;
  c0(p).resources.requests.cpu = '-1';
  p.spec.restartPolicy = 'Sometimes';
  c0(p).ports[0].containerPort = 70000;
  c0(p).env[0].name = '1BAD';
  const causes = validateObject(p);
  t.same(brief(causes).sort(), [
    'FieldValueInvalid metadata.name',
    'FieldValueInvalid spec.containers[0].env[0].name',
    'FieldValueInvalid spec.containers[0].ports[0].containerPort',
    'FieldValueInvalid spec.containers[0].resources.requests[cpu]',
    'FieldValueNotSupported spec.restartPolicy',
    'FieldValueRequired spec.containers[0].image',
  ]);
  const by = (f: string) => causes.find((c) => c.field === f)!.message;
  t.equal(by('metadata.name'), `Invalid value: "Foo_Bar": ${SUBDOMAIN_MSG}`);
  t.equal(by('spec.containers[0].image'), 'Required value');
  t.equal(by('spec.containers[0].resources.requests[cpu]'), 'Invalid value: "-1": must be greater than or equal to 0');
  t.equal(by('spec.restartPolicy'), 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
  t.equal(by('spec.containers[0].ports[0].containerPort'), 'Invalid value: 70000: must be between 1 and 65535, inclusive');
  t.match(by('spec.containers[0].env[0].name'), /^Invalid value: "1BAD": a valid environment variable name must consist of/);

  const err = ApiError.invalid('Pod', 'Foo_Bar', causes);
  t.equal(err.code, 422);
  t.match(err.message, /^Pod "Foo_Bar" is invalid: \[metadata\.name: Invalid value: "Foo_Bar": /);
  try {
    assertValidObject(p);
    t.fail('assertValidObject should throw');
  } catch (e) {
    t.ok(e instanceof ApiError && e.reason === Reason.Invalid);
    t.same((e as ApiError).causes, causes);
  }
  t.doesNotThrow(() => assertValidObject(nginx()));
});

t.test('envelope: kind and apiVersion', async (t) => {
  one(t, pod((p) => (p.kind = 'Frobnicator')), 'kind', CauseType.NotSupported, `Unsupported value: "Frobnicator": supported values: ${KIND_NAMES.map((k) => `"${k}"`).join(', ')}`);
  t.match(validateObject(pod((p) => (p.kind = 'Frobnicator')))[0].message, /supported values: "Namespace", "Node", "Pod", .*"Deployment", "ReplicaSet"/);
  one(t, pod((p) => delete p.kind), 'kind', CauseType.Required);
  one(t, pod((p) => (p.kind = 7)), 'kind', CauseType.TypeInvalid);
  one(t, pod((p) => (p.apiVersion = 'apps/v1')), 'apiVersion', CauseType.NotSupported, 'Unsupported value: "apps/v1": supported values: "v1"');
  one(t, pod((p) => delete p.apiVersion), 'apiVersion', CauseType.Required);
  one(t, { apiVersion: 'v1', kind: 'Lease', metadata: { name: 'l' } }, 'apiVersion', CauseType.NotSupported, /supported values: "coordination\.k8s\.io\/v1"/);
  none(t, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'kube-node-lease' } });
});

t.test('metadata.name and generateName', async (t) => {
  one(t, pod((p) => delete p.metadata.name), 'metadata.name', CauseType.Required, 'Required value: name or generateName is required');
  one(t, pod((p) => (p.metadata.name = '')), 'metadata.name', CauseType.Required);
  none(t, pod((p) => ((p.metadata.generateName = 'web-'), delete p.metadata.name)));
  one(t, pod((p) => ((p.metadata.generateName = 'Web_'), delete p.metadata.name)), 'metadata.generateName', CauseType.Invalid, /^Invalid value: "Web_": a lowercase RFC 1123 subdomain/);
  one(t, pod((p) => (p.metadata.name = 'Foo_Bar')), 'metadata.name', CauseType.Invalid, `Invalid value: "Foo_Bar": ${SUBDOMAIN_MSG}`);
  none(t, pod((p) => (p.metadata.name = 'web.example-1')));
  const long = pod((p) => (p.metadata.name = 'a'.repeat(254)));
  t.same(validateObject(long).map((c) => c.message.replace(/"a+"/, '"aaa"')), ['Invalid value: "aaa": must be no more than 253 characters']);
  none(t, pod((p) => (p.metadata.name = 'a'.repeat(253))));
  one(t, pod((p) => (p.metadata.name = 5)), 'metadata.name', CauseType.TypeInvalid);
});

t.test('Namespace names are DNS labels; namespaces only on namespaced kinds', async (t) => {
  const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  none(t, ns('team-a'));
  one(t, ns('team.a'), 'metadata.name', CauseType.Invalid, `Invalid value: "team.a": ${LABEL_MSG}`);
  one(t, ns('a'.repeat(64)), 'metadata.name', CauseType.Invalid, /must be no more than 63 characters$/);
  one(t, { ...ns('x'), spec: { finalizers: 'kubernetes' } }, 'spec.finalizers', CauseType.TypeInvalid);
  one(t, pod((p) => (p.metadata.namespace = 'Bad_NS')), 'metadata.namespace', CauseType.Invalid, `Invalid value: "Bad_NS": ${LABEL_MSG}`);
  none(t, pod((p) => delete p.metadata.namespace));
  one(t, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', namespace: 'default' } }, 'metadata.namespace', CauseType.Forbidden, 'Forbidden: not allowed on this type');
});

t.test('labels and annotations', async (t) => {
  none(t, pod((p) => (p.metadata.labels = { 'example.com/app': 'web', A_b: 'x.y-z', empty: '' })));
  one(t, pod((p) => (p.metadata.labels = { ['k'.repeat(64)]: 'v' })), 'metadata.labels', CauseType.Invalid, /name part must be no more than 63 characters$/);
  one(t, pod((p) => (p.metadata.labels = { 'Example.com/app': 'v' })), 'metadata.labels', CauseType.Invalid, /^Invalid value: "Example.com\/app": prefix part a lowercase RFC 1123 subdomain/);
  one(t, pod((p) => (p.metadata.labels = { 'a/b/c': 'v' })), 'metadata.labels', CauseType.Invalid, /with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/);
  one(t, pod((p) => (p.metadata.labels = { app: 'v'.repeat(64) })), 'metadata.labels', CauseType.Invalid, /must be no more than 63 characters$/);
  one(t, pod((p) => (p.metadata.labels = { app: 'bad value' })), 'metadata.labels', CauseType.Invalid, /^Invalid value: "bad value": a valid label must be an empty string/);
  one(t, pod((p) => (p.metadata.labels = { app: 3 })), 'metadata.labels[app]', CauseType.TypeInvalid, 'Invalid value: "integer": metadata.labels[app] in body must be of type string: 3');
  one(t, pod((p) => (p.metadata.labels = ['app'])), 'metadata.labels', CauseType.TypeInvalid, 'Invalid value: "array": metadata.labels in body must be of type object: ["app"]');

  none(t, pod((p) => (p.metadata.annotations = { 'Example.com/Note': 'x', note: 'y'.repeat(1000) })));
  one(t, pod((p) => (p.metadata.annotations = { 'bad key!': 'x' })), 'metadata.annotations', CauseType.Invalid, /^Invalid value: "bad key!": name part/);
  one(t, pod((p) => (p.metadata.annotations = { big: 'x'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT) })), 'metadata.annotations', CauseType.TooLong, 'Too long: may not be more than 262144 bytes');
  none(t, pod((p) => (p.metadata.annotations = { big: 'x'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT - 3) })));
});

t.test('containers: presence, names, images, command/args, workingDir', async (t) => {
  one(t, pod((p) => delete p.spec.containers), 'spec.containers', CauseType.Required, 'Required value');
  one(t, pod((p) => (p.spec.containers = [])), 'spec.containers', CauseType.Required);
  one(t, pod((p) => delete p.spec), 'spec.containers', CauseType.Required);
  one(t, pod((p) => (p.spec.containers = 'nginx')), 'spec.containers', CauseType.TypeInvalid, 'Invalid value: "string": spec.containers in body must be of type array: "nginx"');
  one(t, pod((p) => (p.spec.containers = [42])), 'spec.containers[0]', CauseType.TypeInvalid);
  one(t, pod((p) => delete c0(p).name), 'spec.containers[0].name', CauseType.Required);
  one(t, pod((p) => (c0(p).name = 'App')), 'spec.containers[0].name', CauseType.Invalid, `Invalid value: "App": ${LABEL_MSG}`);
  one(t, pod((p) => p.spec.containers.push({ name: 'app', image: 'x' })), 'spec.containers[1].name', CauseType.Duplicate, 'Duplicate value: "app"');
  one(t, pod((p) => (p.spec.initContainers = [{ name: 'app', image: 'x' }])), 'spec.initContainers[0].name', CauseType.Duplicate);
  none(t, pod((p) => (p.spec.initContainers = [{ name: 'init', image: 'x' }])));
  one(t, pod((p) => delete c0(p).image), 'spec.containers[0].image', CauseType.Required, 'Required value');
  one(t, pod((p) => (c0(p).image = '')), 'spec.containers[0].image', CauseType.Required);
  one(t, pod((p) => (c0(p).image = ' nginx')), 'spec.containers[0].image', CauseType.Invalid, 'Invalid value: " nginx": must not have leading or trailing whitespace');
  one(t, pod((p) => (c0(p).command = 'nginx -g')), 'spec.containers[0].command', CauseType.TypeInvalid);
  one(t, pod((p) => (c0(p).args = ['-p', 80])), 'spec.containers[0].args[1]', CauseType.TypeInvalid);
  none(t, pod((p) => ((c0(p).command = ['sh']), (c0(p).args = ['-c', 'true']), (c0(p).workingDir = '/tmp'))));
  one(t, pod((p) => (c0(p).workingDir = ['/tmp'])), 'spec.containers[0].workingDir', CauseType.TypeInvalid);
  one(t, pod((p) => (c0(p).imagePullPolicy = 'Sometimes')), 'spec.containers[0].imagePullPolicy', CauseType.NotSupported);
});

t.test('env', async (t) => {
  const env = (e: unknown) => pod((p) => (c0(p).env = [e]));
  none(t, env({ name: 'my.env-name', value: 'x' }));
  none(t, env({ name: '_X' }));
  one(t, env({ name: '1BAD', value: 'x' }), 'spec.containers[0].env[0].name', CauseType.Invalid,
    `Invalid value: "1BAD": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')`);
  one(t, env({ value: 'x' }), 'spec.containers[0].env[0].name', CauseType.Required);
  one(t, env({ name: 'PORT', value: 80 }), 'spec.containers[0].env[0].value', CauseType.TypeInvalid, /must be of type string: 80$/);
  none(t, env({ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }));
  one(t, env({ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }), 'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath', CauseType.NotSupported, /^Unsupported value: "spec.bogus": supported values: "metadata.name", /);
  one(t, env({ name: 'X', valueFrom: { fieldRef: {} } }), 'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath', CauseType.Required);
  one(t, env({ name: 'X', value: 'v', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }), 'spec.containers[0].env[0].valueFrom', CauseType.Invalid, 'Invalid value: "": may not be specified when `value` is not empty');
  one(t, env({ name: 'X', valueFrom: {} }), 'spec.containers[0].env[0].valueFrom', CauseType.Invalid, /must specify one of/);
  one(t, env({ name: 'X', valueFrom: { secretKeyRef: { name: 's' } } }), 'spec.containers[0].env[0].valueFrom.secretKeyRef.key', CauseType.Required);
  one(t, pod((p) => (c0(p).env = { A: '1' })), 'spec.containers[0].env', CauseType.TypeInvalid);
});

t.test('ports', async (t) => {
  const port = (pt: unknown) => pod((p) => (c0(p).ports = [pt]));
  none(t, port({ containerPort: 8080, name: 'web-8080', protocol: 'UDP' }));
  one(t, port({ name: 'http' }), 'spec.containers[0].ports[0].containerPort', CauseType.Required);
  one(t, port({ containerPort: 0 }), 'spec.containers[0].ports[0].containerPort', CauseType.Required);
  one(t, port({ containerPort: 65536 }), 'spec.containers[0].ports[0].containerPort', CauseType.Invalid, 'Invalid value: 65536: must be between 1 and 65535, inclusive');
  one(t, port({ containerPort: '80' }), 'spec.containers[0].ports[0].containerPort', CauseType.TypeInvalid, 'Invalid value: "string": spec.containers[0].ports[0].containerPort in body must be of type integer: "80"');
  one(t, port({ containerPort: 80, protocol: 'ICMP' }), 'spec.containers[0].ports[0].protocol', CauseType.NotSupported, 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"');
  one(t, port({ containerPort: 80, name: 'web_http' }), 'spec.containers[0].ports[0].name', CauseType.Invalid, 'Invalid value: "web_http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  one(t, port({ containerPort: 80, name: '8080' }), 'spec.containers[0].ports[0].name', CauseType.Invalid, 'Invalid value: "8080": must contain at least one letter (a-z)');
  one(t, port({ containerPort: 80, name: 'a-very-long-port-name' }), 'spec.containers[0].ports[0].name', CauseType.Invalid, /must be no more than 15 characters$/);
  one(t, pod((p) => (c0(p).ports = [{ containerPort: 80, name: 'http' }, { containerPort: 81, name: 'http' }])), 'spec.containers[0].ports[1].name', CauseType.Duplicate, 'Duplicate value: "http"');
  one(t, port({ containerPort: 80, hostPort: 70000 }), 'spec.containers[0].ports[0].hostPort', CauseType.Invalid);
});

t.test('resources', async (t) => {
  const res = (r: unknown) => pod((p) => (c0(p).resources = r));
  none(t, res({ requests: { cpu: '500m', memory: '1Gi', 'example.com/gpu': '1' }, limits: { cpu: 1, memory: '1Gi', 'example.com/gpu': 1 } }));
  one(t, res({ requests: { cpu: '-1' } }), 'spec.containers[0].resources.requests[cpu]', CauseType.Invalid, 'Invalid value: "-1": must be greater than or equal to 0');
  one(t, res({ limits: { memory: 'lots' } }), 'spec.containers[0].resources.limits[memory]', CauseType.Invalid, /^Invalid value: "lots": quantities must match the regular expression/);
  one(t, res({ requests: { cpu: '2' }, limits: { cpu: '1' } }), 'spec.containers[0].resources.requests', CauseType.Invalid, 'Invalid value: "2": must be less than or equal to cpu limit of 1');
  none(t, res({ requests: { cpu: '1000m' }, limits: { cpu: '1' } }));
  one(t, res({ requests: { gpu: '1' } }), 'spec.containers[0].resources.requests[gpu]', CauseType.Invalid, 'Invalid value: "gpu": must be a standard resource for containers');
  one(t, res({ requests: { 'example.com/gpu': '0.5' } }), 'spec.containers[0].resources.requests[example.com/gpu]', CauseType.Invalid, 'Invalid value: "0.5": must be an integer');
  one(t, res({ requests: { cpu: true } }), 'spec.containers[0].resources.requests[cpu]', CauseType.TypeInvalid);
  one(t, res({ requests: ['cpu'] }), 'spec.containers[0].resources.requests', CauseType.TypeInvalid);
});

t.test('pod-level fields', async (t) => {
  none(t, pod((p) => (p.spec.restartPolicy = 'OnFailure')));
  one(t, pod((p) => (p.spec.restartPolicy = 'Sometimes')), 'spec.restartPolicy', CauseType.NotSupported, 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
  none(t, pod((p) => (p.spec.terminationGracePeriodSeconds = 0)));
  one(t, pod((p) => (p.spec.terminationGracePeriodSeconds = -1)), 'spec.terminationGracePeriodSeconds', CauseType.Invalid, 'Invalid value: -1: must be greater than or equal to 0');
  one(t, pod((p) => (p.spec.terminationGracePeriodSeconds = '30')), 'spec.terminationGracePeriodSeconds', CauseType.TypeInvalid,
    'Invalid value: "string": spec.terminationGracePeriodSeconds in body must be of type integer: "30"');
  one(t, pod((p) => (p.spec.terminationGracePeriodSeconds = 1.5)), 'spec.terminationGracePeriodSeconds', CauseType.TypeInvalid, /^Invalid value: "number": .* must be of type integer: 1.5$/);
  none(t, pod((p) => (p.spec.nodeSelector = { 'kubernetes.io/hostname': 'node-1', disk: 'ssd' })));
  one(t, pod((p) => (p.spec.nodeSelector = { 'disk type': 'ssd' })), 'spec.nodeSelector', CauseType.Invalid);
  one(t, pod((p) => (p.spec.nodeSelector = { disk: true })), 'spec.nodeSelector[disk]', CauseType.TypeInvalid);
  none(t, pod((p) => (p.spec.nodeName = 'node-1.example')));
  one(t, pod((p) => (p.spec.nodeName = 'Node_1')), 'spec.nodeName', CauseType.Invalid, `Invalid value: "Node_1": ${SUBDOMAIN_MSG}`);
  one(t, pod((p) => (p.spec.activeDeadlineSeconds = 0)), 'spec.activeDeadlineSeconds', CauseType.Invalid, 'Invalid value: 0: must be between 1 and 2147483647, inclusive');
  one(t, pod((p) => (p.spec.tolerations = [{ operator: 'Equal', value: 'x' }])), 'spec.tolerations[0].operator', CauseType.Invalid, /operator must be Exists when `key` is empty/);
  one(t, pod((p) => (p.spec.tolerations = [{ key: 'k', effect: 'NoSchedule', tolerationSeconds: 5 }])), 'spec.tolerations[0].effect', CauseType.Invalid);
  one(t, pod((p) => (c0(p).volumeMounts = [{ name: 'data', mountPath: '/data' }])), 'spec.containers[0].volumeMounts[0].name', CauseType.Invalid);
  one(t, pod((p) => (p.spec.volumes = [{ name: 'data' }, { name: 'data' }])), 'spec.volumes[1].name', CauseType.Duplicate);
});

t.test('probes', async (t) => {
  const probe = (kind: string, pr: unknown) => pod((p) => (c0(p)[kind] = pr));
  const lp = 'spec.containers[0].livenessProbe';
  none(t, probe('livenessProbe', { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTPS' }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 }));
  none(t, probe('readinessProbe', { tcpSocket: { port: 'http' }, successThreshold: 3 }));
  one(t, probe('livenessProbe', { periodSeconds: 5 }), lp, CauseType.Required, 'Required value: must specify a handler type');
  one(t, probe('livenessProbe', { exec: { command: ['true'] }, tcpSocket: { port: 80 } }), `${lp}.tcpSocket`, CauseType.Forbidden, 'Forbidden: may not specify more than 1 handler type');
  one(t, probe('livenessProbe', { exec: { command: [] } }), `${lp}.exec.command`, CauseType.Required);
  one(t, probe('livenessProbe', { exec: { command: ['true'] }, periodSeconds: 0 }), `${lp}.periodSeconds`, CauseType.Invalid, 'Invalid value: 0: must be greater than or equal to 1');
  one(t, probe('livenessProbe', { exec: { command: ['true'] }, timeoutSeconds: 0 }), `${lp}.timeoutSeconds`, CauseType.Invalid);
  one(t, probe('livenessProbe', { exec: { command: ['true'] }, failureThreshold: 0 }), `${lp}.failureThreshold`, CauseType.Invalid);
  one(t, probe('livenessProbe', { exec: { command: ['true'] }, initialDelaySeconds: -1 }), `${lp}.initialDelaySeconds`, CauseType.Invalid, 'Invalid value: -1: must be greater than or equal to 0');
  one(t, probe('livenessProbe', { exec: { command: ['true'] }, successThreshold: 2 }), `${lp}.successThreshold`, CauseType.Invalid, 'Invalid value: 2: must be 1');
  one(t, probe('livenessProbe', { httpGet: { port: 0 } }), `${lp}.httpGet.port`, CauseType.Invalid);
  one(t, probe('livenessProbe', { httpGet: { path: '/' } }), `${lp}.httpGet.port`, CauseType.Required);
  one(t, probe('livenessProbe', { httpGet: { port: 80, scheme: 'FTP' } }), `${lp}.httpGet.scheme`, CauseType.NotSupported);
  one(t, probe('startupProbe', { tcpSocket: { port: 'web--http' } }), 'spec.containers[0].startupProbe.tcpSocket.port', CauseType.Invalid, 'Invalid value: "web--http": must not contain consecutive hyphens');
  one(t, probe('readinessProbe', 'GET /'), 'spec.containers[0].readinessProbe', CauseType.TypeInvalid);
  one(t, pod((p) => (p.spec.initContainers = [{ name: 'init', image: 'x', livenessProbe: { exec: { command: ['true'] } } }])), 'spec.initContainers[0].livenessProbe', CauseType.Forbidden);
  none(t, pod((p) => (p.spec.initContainers = [{ name: 'sidecar', image: 'x', restartPolicy: 'Always', livenessProbe: { exec: { command: ['true'] } } }])));
});

t.test('wrong JSON types never throw and give TypeInvalid causes', async (t) => {
  for (const body of [null, undefined, 42, 'pod', [], [pod()], true]) {
    const causes = validateObject(body);
    t.same(brief(causes), ['FieldValueTypeInvalid body'], `body ${JSON.stringify(body)}`);
  }
  t.equal(validateObject(null)[0].message, 'Invalid value: "null": body must be of type object: null');
  one(t, pod((p) => (p.metadata = 3)), 'metadata', CauseType.TypeInvalid, 'Invalid value: "integer": metadata in body must be of type object: 3');
  one(t, pod((p) => (p.spec = 'nope')), 'spec', CauseType.TypeInvalid);
  one(t, pod((p) => (p.status = [])), 'status', CauseType.TypeInvalid);
  one(t, pod((p) => (p.metadata.generation = '1')), 'metadata.generation', CauseType.TypeInvalid);

  // Every field of the nginx pod, replaced by every JSON type: no throw, always an array of causes.
  const garbage = [null, 0, -1, 1.5, '', 'x', [], [null], {}, { a: 1 }, true];
  let checked = 0;
  const visit = (node: any, path: (string | number)[]) => {
    if (node === null || typeof node !== 'object') return;
    for (const k of Object.keys(node)) {
      for (const g of garbage) {
        const copy = nginx();
        let target = copy;
        for (const step of path) target = target[step];
        target[k] = g;
        const causes = validateObject(copy);
        if (!Array.isArray(causes) || causes.some((c) => typeof c.field !== 'string' || typeof c.message !== 'string')) t.fail(`bad result at ${[...path, k].join('.')}`);
        checked++;
      }
      visit(node[k], [...path, k]);
    }
  };
  t.doesNotThrow(() => visit(nginx(), []));
  t.ok(checked > 500, `checked ${checked} mutations`);
});

t.test('pod updates', async (t) => {
  const old = nginx();
  const upd = (edit: (p: any) => void) => {
    const p = nginx();
    edit(p);
    return p;
  };
  none(t, upd((p) => (c0(p).image = 'nginx:1.28')), old);
  none(t, upd((p) => (p.spec.initContainers[0].image = 'busybox:1.37')), old);
  none(t, upd((p) => (p.spec.activeDeadlineSeconds = 600)), old);
  none(t, upd((p) => (p.spec.terminationGracePeriodSeconds = 5)), old);
  none(t, upd((p) => p.spec.tolerations.push({ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' })), old);
  none(t, upd((p) => (p.spec.tolerations[0].tolerationSeconds = 60)), old);
  none(t, upd((p) => ((p.metadata.labels.version = 'v2'), (p.status = { phase: 'Running' }))), old);
  none(t, upd((p) => (p.spec.nodeName = 'node-1')), old);

  one(t, upd((p) => (c0(p).command = ['httpd'])), 'spec', CauseType.Forbidden, `Forbidden: ${POD_UPDATE_FORBIDDEN}`, old);
  t.equal(
    POD_UPDATE_FORBIDDEN,
    'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
  );
  one(t, upd((p) => (p.spec.restartPolicy = 'Never')), 'spec', CauseType.Forbidden, undefined, old);
  one(t, upd((p) => (c0(p).resources.limits.cpu = '2')), 'spec', CauseType.Forbidden, undefined, old);
  one(t, upd((p) => p.spec.containers.push({ name: 'extra', image: 'x' })), 'spec', CauseType.Forbidden, undefined, old);
  one(t, upd((p) => (p.spec.tolerations = [])), 'spec.tolerations', CauseType.Forbidden, 'Forbidden: existing toleration can not be modified except its tolerationSeconds', old);

  const bound = upd((p) => (p.spec.nodeName = 'node-1'));
  none(t, upd((p) => ((p.spec.nodeName = 'node-1'), (c0(p).image = 'nginx:2'))), bound);
  one(t, upd((p) => (p.spec.nodeName = 'node-2')), 'spec.nodeName', CauseType.Forbidden, /^Forbidden: may not be changed once set/, bound);
  one(t, upd(() => {}), 'spec.nodeName', CauseType.Forbidden, undefined, bound);

  const withDeadline = upd((p) => (p.spec.activeDeadlineSeconds = 600));
  none(t, upd((p) => (p.spec.activeDeadlineSeconds = 300)), withDeadline);
  one(t, upd((p) => (p.spec.activeDeadlineSeconds = 900)), 'spec.activeDeadlineSeconds', CauseType.Invalid, 'Invalid value: 900: must be less than or equal to previous value', withDeadline);
  one(t, upd(() => {}), 'spec.activeDeadlineSeconds', CauseType.Invalid, /must not update from a positive integer to nil value/, withDeadline);

  one(t, upd((p) => (p.metadata.name = 'other')), 'metadata.name', CauseType.Invalid, 'Invalid value: "other": field is immutable', old);
  one(t, upd((p) => (p.metadata.namespace = 'prod')), 'metadata.namespace', CauseType.Invalid, 'Invalid value: "prod": field is immutable', old);
  // Invalid new content is still reported on update, alongside nothing else.
  one(t, upd((p) => (c0(p).image = '')), 'spec.containers[0].image', CauseType.Required, undefined, old);
});

t.test('Node', async (t) => {
  const node = (edit: (n: any) => void = () => {}) => {
    const n: any = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
      spec: { unschedulable: false, podCIDR: '10.244.1.0/24', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '3800m', memory: '7Gi', pods: 110 }, conditions: [{ type: 'Ready', status: 'True' }] },
    };
    edit(n);
    return n;
  };
  none(t, node());
  none(t, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bare' } });
  one(t, node((n) => (n.spec.unschedulable = 'yes')), 'spec.unschedulable', CauseType.TypeInvalid, 'Invalid value: "string": spec.unschedulable in body must be of type boolean: "yes"');
  one(t, node((n) => (n.spec.podCIDR = 42)), 'spec.podCIDR', CauseType.TypeInvalid);
  one(t, node((n) => (n.spec.podCIDR = '10.244.1.0')), 'spec.podCIDR', CauseType.Invalid, /must be a valid CIDR value/);
  none(t, node((n) => (n.spec.podCIDR = 'fd00:10:244::/64')));
  one(t, node((n) => (n.status.capacity.cpu = 'lots')), 'status.capacity[cpu]', CauseType.Invalid);
  one(t, node((n) => (n.status.allocatable.memory = '-1Gi')), 'status.allocatable[memory]', CauseType.Invalid, 'Invalid value: "-1Gi": must be greater than or equal to 0');
  one(t, node((n) => (n.status.capacity = '4 cpus')), 'status.capacity', CauseType.TypeInvalid);
  one(t, node((n) => (n.spec.taints[0].effect = 'NoWay')), 'spec.taints[0].effect', CauseType.NotSupported);
  one(t, node((n) => (n.metadata.name = 'Node_1')), 'metadata.name', CauseType.Invalid);
  none(t, node((n) => (n.spec.unschedulable = true)), node());
  one(t, node((n) => (n.spec.podCIDR = '10.244.2.0/24')), 'spec.podCIDR', CauseType.Forbidden, 'Forbidden: node updates may not change podCIDR except from "" to valid', node());
  none(t, node(), node((n) => delete n.spec.podCIDR));
});

t.test('Event', async (t) => {
  const event = (edit: (e: any) => void = () => {}) => {
    const e: any = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.17a8b', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', apiVersion: 'v1' },
      reason: 'Scheduled',
      message: 'Successfully assigned default/web to node-1',
      type: 'Normal',
      count: 1,
      source: { component: 'default-scheduler' },
    };
    edit(e);
    return e;
  };
  none(t, event());
  one(t, event((e) => delete e.involvedObject), 'involvedObject', CauseType.Required);
  one(t, event((e) => (e.involvedObject = 'Pod/web')), 'involvedObject', CauseType.TypeInvalid);
  one(t, event((e) => delete e.involvedObject.kind), 'involvedObject.kind', CauseType.Required);
  one(t, event((e) => (e.involvedObject.name = '')), 'involvedObject.name', CauseType.Required);
  one(t, event((e) => (e.type = 'Info')), 'type', CauseType.NotSupported, 'Unsupported value: "Info": supported values: "Normal", "Warning"');
  none(t, event((e) => (e.type = 'Warning')));
  one(t, event((e) => (e.count = -1)), 'count', CauseType.Invalid);
  one(t, event((e) => (e.count = '3')), 'count', CauseType.TypeInvalid);
  one(t, event((e) => (e.reason = 5)), 'reason', CauseType.TypeInvalid);
  one(t, event((e) => (e.message = { text: 'x' })), 'message', CauseType.TypeInvalid);
  one(t, event((e) => (e.involvedObject.namespace = 'prod')), 'involvedObject.namespace', CauseType.Invalid, 'Invalid value: "prod": does not match event.namespace');
});

t.test('Lease', async (t) => {
  const lease = (spec: unknown) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec });
  none(t, lease({ holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2024-01-01T00:00:00.000000Z' }));
  one(t, lease({ leaseDurationSeconds: 0 }), 'spec.leaseDurationSeconds', CauseType.Invalid, 'Invalid value: 0: must be greater than 0');
  one(t, lease({ leaseDurationSeconds: '40' }), 'spec.leaseDurationSeconds', CauseType.TypeInvalid);
  one(t, lease({ holderIdentity: 7 }), 'spec.holderIdentity', CauseType.TypeInvalid);
  one(t, lease({ renewTime: 1700000000 }), 'spec.renewTime', CauseType.TypeInvalid);
  one(t, lease({ leaseTransitions: -1 }), 'spec.leaseTransitions', CauseType.Invalid);
});

t.test('object size', async (t) => {
  t.equal(MAX_OBJECT_BYTES, 1048576);
  t.equal(checkObjectSize(MAX_OBJECT_BYTES), undefined);
  t.equal(checkObjectSize(objectSize(nginx())), undefined);
  const err = checkObjectSize(MAX_OBJECT_BYTES + 1);
  t.ok(err instanceof ApiError);
  t.equal(err?.reason, Reason.RequestEntityTooLarge);
  t.equal(err?.code, 413);
  const huge = pod((p) => (c0(p).args = Array.from({ length: 20 }, () => 'x'.repeat(64 * 1024))));
  t.ok(objectSize(huge) > MAX_OBJECT_BYTES);
  t.ok(checkObjectSize(objectSize(huge)));
});

t.test('a pod status update keeps the stored spec: it is not validated again (ValidatePodStatusUpdate); a changed spec is', async (t) => {
  // A spec stored before a stricter rule (here: a container without image) stays writable by its kubelet's status updates.
  const stored = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'old', namespace: 'default', uid: 'u1', resourceVersion: '5' }, spec: { containers: [{ name: 'main' }] }, status: {} } as unknown as KubeObject;
  const statusUpdate = { ...stored, metadata: { ...stored.metadata }, status: { phase: 'Running' } };
  t.same(validateObject(statusUpdate, stored), [], 'the same spec object: only metadata and status are checked');
  t.same(
    validateObject({ ...statusUpdate, status: 'Running' }, stored).map((c) => c.field),
    ['status'],
    'the status still is',
  );
  const specUpdate = { ...statusUpdate, spec: structuredClone(stored.spec) };
  t.ok(
    validateObject(specUpdate, stored).some((c) => c.field === 'spec.containers[0].image'),
    'a spec of its own (an update) is validated in full',
  );
});
