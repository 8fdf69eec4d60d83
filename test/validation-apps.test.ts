/**
 * Deployment and ReplicaSet validation (protocol/validation/apps.ts), as kube-apiserver's
 * ValidateDeployment / ValidateReplicaSet report it: exact field paths, CauseType reasons
 * and messages. Pure: no cluster, no defaulting (that is the API server's job, before it).
 */
import t from 'tap';
import { CauseType, type FieldCause } from '../protocol/errors.js';
import type { KubeObject } from '../protocol/objects.js';
import { validateObject } from '../protocol/validation/index.js';

type Manifest = Record<string, any>;
type Tap = Pick<typeof t, 'same'>;

const PERCENT = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** A valid, undefaulted deployment; `edit` changes it. */
function deployment(edit: (d: Manifest) => void = () => {}): Manifest {
  const d: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', tier: 'front' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', command: ['nginx'] }] },
      },
    },
  };
  edit(d);
  return d;
}

function replicaSet(edit: (d: Manifest) => void = () => {}): Manifest {
  return deployment((d) => {
    d.kind = 'ReplicaSet';
    edit(d);
  });
}

function causes(obj: Manifest, old?: Manifest): FieldCause[] {
  return validateObject(obj, old as KubeObject | undefined);
}

/** Exactly one cause, with this field, reason and message. */
function one(t: Tap, obj: Manifest, field: string, reason: string, message: string, old?: Manifest): void {
  t.same(causes(obj, old), [{ field, reason, message }], `${field}: ${message}`);
}

t.test('valid deployments and replica sets have no causes', async (t) => {
  t.same(causes(deployment()), []);
  t.same(causes(replicaSet()), []);
  t.same(
    causes(
      deployment((d) => {
        d.spec.replicas = 0;
        d.spec.minReadySeconds = 5;
        d.spec.progressDeadlineSeconds = 6;
        d.spec.revisionHistoryLimit = 0;
        d.spec.paused = true;
        d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '150%', maxUnavailable: '100%' } };
      }),
    ),
    [],
    'maxSurge has no upper bound; maxUnavailable up to 100%',
  );
  t.same(causes(deployment((d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }))), []);
  t.same(causes(deployment((d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '0%', maxUnavailable: '1%' } }))), []);
  t.same(causes(deployment((d) => (d.spec.strategy = { type: 'Recreate' }))), []);
  t.same(
    causes(deployment((d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }, { key: 'canary', operator: 'DoesNotExist' }] }))),
    [],
    'matchExpressions that the template labels satisfy',
  );
});

t.test('defaults are not the validator\'s job: optional fields may be absent, and nothing is filled in', async (t) => {
  const bare = deployment((d) => {
    delete d.spec.replicas;
    delete d.spec.template.spec.containers[0].command;
  });
  const before = structuredClone(bare);
  t.same(causes(bare), [], 'no replicas, strategy, revisionHistoryLimit, progressDeadlineSeconds: valid');
  t.same(bare, before, 'the object is not changed (no replicas, strategy or restartPolicy added)');

  const noRollingUpdate = deployment((d) => (d.spec.strategy = { type: 'RollingUpdate' }));
  t.same(causes(noRollingUpdate), [], 'RollingUpdate without rollingUpdate: not "both 0" (the defaults come later)');
  t.same(noRollingUpdate.spec.strategy, { type: 'RollingUpdate' });
  const emptyStrategy = deployment((d) => (d.spec.strategy = {}));
  t.same(causes(emptyStrategy), []);
  t.same(emptyStrategy.spec.strategy, {}, 'no type filled in');
  const onlySurge = deployment((d) => (d.spec.strategy = { rollingUpdate: { maxSurge: 0 } }));
  t.same(causes(onlySurge), [], 'maxSurge 0 with maxUnavailable absent: not "both 0"');
});

t.test('spec.replicas and spec.minReadySeconds', async (t) => {
  one(t, deployment((d) => (d.spec.replicas = -1)), 'spec.replicas', CauseType.Invalid, 'Invalid value: -1: must be greater than or equal to 0');
  one(t, replicaSet((d) => (d.spec.replicas = -1)), 'spec.replicas', CauseType.Invalid, 'Invalid value: -1: must be greater than or equal to 0');
  one(t, deployment((d) => (d.spec.replicas = '3')), 'spec.replicas', CauseType.TypeInvalid, 'Invalid value: "string": spec.replicas in body must be of type integer: "3"');
  one(t, deployment((d) => (d.spec.replicas = 1.5)), 'spec.replicas', CauseType.TypeInvalid, 'Invalid value: "number": spec.replicas in body must be of type integer: 1.5');
  one(t, deployment((d) => (d.spec.minReadySeconds = -5)), 'spec.minReadySeconds', CauseType.Invalid, 'Invalid value: -5: must be greater than or equal to 0');
  one(t, replicaSet((d) => (d.spec.minReadySeconds = -5)), 'spec.minReadySeconds', CauseType.Invalid, 'Invalid value: -5: must be greater than or equal to 0');
});

t.test('spec.selector', async (t) => {
  for (const make of [deployment, replicaSet]) {
    const kind = make().kind;
    t.test(kind, async (t) => {
      one(t, make((d) => delete d.spec.selector), 'spec.selector', CauseType.Required, 'Required value');
      one(t, make((d) => (d.spec.selector = {})), 'spec.selector', CauseType.Invalid, 'Invalid value: "null": empty selector is invalid for deployment');
      one(t, make((d) => (d.spec.selector = { matchLabels: {}, matchExpressions: [] })), 'spec.selector', CauseType.Invalid, 'Invalid value: "null": empty selector is invalid for deployment');
      one(t, make((d) => (d.spec.selector = 'app=web')), 'spec.selector', CauseType.TypeInvalid, 'Invalid value: "string": spec.selector in body must be of type object: "app=web"');
    });
  }

  // An invalid selector is reported once: the template labels are not compared against it.
  const badKey = causes(deployment((d) => (d.spec.selector = { matchLabels: { 'bad key': 'web' } })));
  t.equal(badKey.length, 1, JSON.stringify(badKey));
  t.match(badKey[0], { field: 'spec.selector.matchLabels', reason: CauseType.Invalid, message: /^Invalid value: "bad key": name part must consist of alphanumeric characters/ });
  const badValue = causes(deployment((d) => (d.spec.selector = { matchLabels: { app: 'not a value!' } })));
  t.equal(badValue.length, 1, JSON.stringify(badValue));
  t.match(badValue[0], { field: 'spec.selector.matchLabels', reason: CauseType.Invalid, message: /^Invalid value: "not a value!": a valid label must be/ });
  one(t, deployment((d) => (d.spec.selector = { matchLabels: { app: 7 } })), 'spec.selector.matchLabels[app]', CauseType.TypeInvalid, 'Invalid value: "integer": spec.selector.matchLabels[app] in body must be of type string: 7');

  const expr = (e: Manifest) => deployment((d) => (d.spec.selector = { matchLabels: { app: 'web' }, matchExpressions: [e] }));
  const P = 'spec.selector.matchExpressions[0]';
  one(t, expr({ key: 'tier', operator: 'Near', values: ['front'] }), `${P}.operator`, CauseType.NotSupported, 'Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist"');
  one(t, expr({ key: 'tier', operator: 'In' }), `${P}.values`, CauseType.Required, "Required value: must be specified when `operator` is 'In' or 'NotIn'");
  one(t, expr({ key: 'tier', operator: 'NotIn', values: [] }), `${P}.values`, CauseType.Required, "Required value: must be specified when `operator` is 'In' or 'NotIn'");
  one(t, expr({ key: 'tier', operator: 'Exists', values: ['front'] }), `${P}.values`, CauseType.Forbidden, "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  one(t, expr({ key: 'tier', operator: 'DoesNotExist', values: ['x'] }), `${P}.values`, CauseType.Forbidden, "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  const keyCauses = causes(expr({ key: '-tier', operator: 'Exists' }));
  t.equal(keyCauses.length, 1, JSON.stringify(keyCauses));
  t.match(keyCauses[0], { field: `${P}.key`, reason: CauseType.Invalid, message: /^Invalid value: "-tier": name part must consist of/ });
  one(t, expr({ key: 3, operator: 'Exists' }), `${P}.key`, CauseType.TypeInvalid, `Invalid value: "integer": ${P}.key in body must be of type string: 3`);
  one(
    t,
    deployment((d) => (d.spec.selector = { matchExpressions: 'app in (web)' })),
    'spec.selector.matchExpressions',
    CauseType.TypeInvalid,
    'Invalid value: "string": spec.selector.matchExpressions in body must be of type array: "app in (web)"',
  );
});

t.test('spec.template: labels must match the selector; the pod spec is validated under it', async (t) => {
  const mismatch = '`selector` does not match template `labels`';
  for (const make of [deployment, replicaSet]) {
    one(t, make((d) => (d.spec.template.metadata.labels = { app: 'api' })), 'spec.template.metadata.labels', CauseType.Invalid, `Invalid value: {"app":"api"}: ${mismatch}`);
    one(t, make((d) => delete d.spec.template.metadata.labels), 'spec.template.metadata.labels', CauseType.Invalid, `Invalid value: {}: ${mismatch}`);
    one(t, make((d) => delete d.spec.template), 'spec.template', CauseType.Required, 'Required value');
  }
  one(
    t,
    deployment((d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] })),
    'spec.template.metadata.labels',
    CauseType.Invalid,
    `Invalid value: {"app":"web","tier":"front"}: ${mismatch}`,
  );
  one(t, deployment((d) => (d.spec.template = 'nginx')), 'spec.template', CauseType.TypeInvalid, 'Invalid value: "string": spec.template in body must be of type object: "nginx"');

  one(t, deployment((d) => delete d.spec.template.spec.containers), 'spec.template.spec.containers', CauseType.Required, 'Required value');
  one(t, deployment((d) => delete d.spec.template.spec.containers[0].image), 'spec.template.spec.containers[0].image', CauseType.Required, 'Required value');
  one(t, deployment((d) => (d.spec.template.spec.restartPolicy = 'Never')), 'spec.template.spec.restartPolicy', CauseType.NotSupported, 'Unsupported value: "Never": supported values: "Always"');
  one(t, replicaSet((d) => (d.spec.template.spec.restartPolicy = 'OnFailure')), 'spec.template.spec.restartPolicy', CauseType.NotSupported, 'Unsupported value: "OnFailure": supported values: "Always"');
  t.same(causes(deployment((d) => (d.spec.template.spec.restartPolicy = 'Always'))), []);
  one(t, deployment((d) => (d.spec.template.spec.activeDeadlineSeconds = 30)), 'spec.template.spec.activeDeadlineSeconds', CauseType.Forbidden, 'Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported');
  const both = causes(deployment((d) => (d.spec.template.spec.restartPolicy = 'Sometimes')));
  t.same(
    both.map((c) => [c.field, c.reason]),
    [
      ['spec.template.spec.restartPolicy', CauseType.NotSupported],
      ['spec.template.spec.restartPolicy', CauseType.NotSupported],
    ],
    'an unknown policy: unsupported for a pod, and not Always',
  );
});

t.test('spec.strategy', async (t) => {
  const ru = (rollingUpdate: Manifest) => deployment((d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate }));
  const SURGE = 'spec.strategy.rollingUpdate.maxSurge';
  const UNAVAILABLE = 'spec.strategy.rollingUpdate.maxUnavailable';

  one(t, ru({ maxUnavailable: '150%' }), UNAVAILABLE, CauseType.Invalid, 'Invalid value: "150%": must not be greater than 100%');
  one(t, ru({ maxUnavailable: '101%' }), UNAVAILABLE, CauseType.Invalid, 'Invalid value: "101%": must not be greater than 100%');
  one(t, ru({ maxSurge: 'abc' }), SURGE, CauseType.Invalid, `Invalid value: "abc": ${PERCENT}`);
  one(t, ru({ maxSurge: '5' }), SURGE, CauseType.Invalid, `Invalid value: "5": ${PERCENT}`);
  one(t, ru({ maxUnavailable: '-5%' }), UNAVAILABLE, CauseType.Invalid, `Invalid value: "-5%": ${PERCENT}`);
  one(t, ru({ maxSurge: -1 }), SURGE, CauseType.Invalid, 'Invalid value: -1: must be greater than or equal to 0');
  one(t, ru({ maxUnavailable: -2 }), UNAVAILABLE, CauseType.Invalid, 'Invalid value: -2: must be greater than or equal to 0');
  one(t, ru({ maxSurge: 1.5 }), SURGE, CauseType.TypeInvalid, 'Invalid value: "number": spec.strategy.rollingUpdate.maxSurge in body must be of type integer or string: 1.5');
  one(t, ru({ maxSurge: true }), SURGE, CauseType.TypeInvalid, 'Invalid value: "boolean": spec.strategy.rollingUpdate.maxSurge in body must be of type integer or string: true');

  // Both 0, however written: reported on maxUnavailable.
  one(t, ru({ maxSurge: 0, maxUnavailable: 0 }), UNAVAILABLE, CauseType.Invalid, 'Invalid value: 0: may not be 0 when `maxSurge` is 0');
  one(t, ru({ maxSurge: '0%', maxUnavailable: '0%' }), UNAVAILABLE, CauseType.Invalid, 'Invalid value: "0%": may not be 0 when `maxSurge` is 0');
  one(t, ru({ maxSurge: '0%', maxUnavailable: 0 }), UNAVAILABLE, CauseType.Invalid, 'Invalid value: 0: may not be 0 when `maxSurge` is 0');
  // A bad value on one side is reported alone.
  one(t, ru({ maxSurge: 'abc', maxUnavailable: 0 }), SURGE, CauseType.Invalid, `Invalid value: "abc": ${PERCENT}`);

  one(t, deployment((d) => (d.spec.strategy = { type: 'BlueGreen' })), 'spec.strategy.type', CauseType.NotSupported, 'Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"');
  one(
    t,
    deployment((d) => (d.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } })),
    'spec.strategy.rollingUpdate',
    CauseType.Forbidden,
    "Forbidden: may not be specified when strategy `type` is 'Recreate'",
  );
  one(t, deployment((d) => (d.spec.strategy = 'Recreate')), 'spec.strategy', CauseType.TypeInvalid, 'Invalid value: "string": spec.strategy in body must be of type object: "Recreate"');
  one(t, deployment((d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: [] })), 'spec.strategy.rollingUpdate', CauseType.TypeInvalid, 'Invalid value: "array": spec.strategy.rollingUpdate in body must be of type object: []');

  // Every strategy problem at once.
  t.same(
    causes(ru({ maxSurge: 'abc', maxUnavailable: '150%' })).map((c) => [c.field, c.reason]),
    [
      [SURGE, CauseType.Invalid],
      [UNAVAILABLE, CauseType.Invalid],
    ],
  );
  // A ReplicaSet has no strategy: its validator does not look.
  t.same(causes(replicaSet((d) => (d.spec.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } }))), []);
});

t.test('revisionHistoryLimit, progressDeadlineSeconds, paused', async (t) => {
  one(t, deployment((d) => (d.spec.revisionHistoryLimit = -1)), 'spec.revisionHistoryLimit', CauseType.Invalid, 'Invalid value: -1: must be greater than or equal to 0');
  one(
    t,
    deployment((d) => {
      d.spec.minReadySeconds = 10;
      d.spec.progressDeadlineSeconds = 10;
    }),
    'spec.progressDeadlineSeconds',
    CauseType.Invalid,
    'Invalid value: 10: must be greater than minReadySeconds',
  );
  t.same(
    causes(deployment((d) => (d.spec.progressDeadlineSeconds = 0))).filter((c) => c.field === 'spec.progressDeadlineSeconds' && c.reason === CauseType.Invalid && c.message === 'Invalid value: 0: must be greater than minReadySeconds').length,
    1,
    '0 is not greater than minReadySeconds (0)',
  );
  one(t, deployment((d) => (d.spec.progressDeadlineSeconds = '600')), 'spec.progressDeadlineSeconds', CauseType.TypeInvalid, 'Invalid value: "string": spec.progressDeadlineSeconds in body must be of type integer: "600"');
  one(t, deployment((d) => (d.spec.paused = 'yes')), 'spec.paused', CauseType.TypeInvalid, 'Invalid value: "string": spec.paused in body must be of type boolean: "yes"');
  one(t, deployment((d) => (d.spec = [])), 'spec', CauseType.TypeInvalid, 'Invalid value: "array": spec in body must be of type object: []');
});

t.test('every problem of a deployment at once, in field order', async (t) => {
  const all = causes(
    deployment((d) => {
      d.spec.replicas = -1;
      d.spec.selector = { matchLabels: { app: 'other' } };
      d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'abc', maxUnavailable: '150%' } };
      d.spec.revisionHistoryLimit = -3;
    }),
  );
  t.same(
    all.map((c) => [c.field, c.reason]),
    [
      ['spec.replicas', CauseType.Invalid],
      ['spec.template.metadata.labels', CauseType.Invalid],
      ['spec.strategy.rollingUpdate.maxSurge', CauseType.Invalid],
      ['spec.strategy.rollingUpdate.maxUnavailable', CauseType.Invalid],
      ['spec.revisionHistoryLimit', CauseType.Invalid],
    ],
  );
});

t.test('updates: the selector is immutable, everything else may change', async (t) => {
  for (const make of [deployment, replicaSet]) {
    const kind = make().kind;
    t.test(kind, async (t) => {
      const old = make();
      t.same(
        causes(
          make((d) => {
            d.spec.replicas = 10;
            d.spec.template.spec.containers[0].image = 'nginx:1.28';
            d.spec.template.metadata.labels.tier = 'back';
          }),
          old,
        ),
        [],
        'replicas, image and template labels (still matching) may change',
      );
      t.same(causes(make((d) => (d.spec.selector = { matchLabels: { app: 'web' }, matchExpressions: null })), old), [], 'an explicit null equals an absent field');
      one(
        t,
        make((d) => (d.spec.selector = { matchLabels: { app: 'web', tier: 'front' } })),
        'spec.selector',
        CauseType.Invalid,
        'Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable',
        old,
      );
      one(
        t,
        make((d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] })),
        'spec.selector',
        CauseType.Invalid,
        'Invalid value: {"matchExpressions":[{"key":"app","operator":"In","values":["web"]}]}: field is immutable',
        old,
      );
      // Removing the selector: required, and a change.
      t.same(
        causes(
          make((d) => delete d.spec.selector),
          old,
        ).map((c) => [c.field, c.reason, c.message]),
        [
          ['spec.selector', CauseType.Required, 'Required value'],
          ['spec.selector', CauseType.Invalid, 'Invalid value: "null": field is immutable'],
        ],
      );
      // The object's identity, as for every kind.
      one(t, make((d) => (d.metadata.name = 'other')), 'metadata.name', CauseType.Invalid, 'Invalid value: "other": field is immutable', old);
    });
  }
});
