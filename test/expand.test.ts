import t from 'tap';
import { expandVars } from '../nodes/worker/expand.js';

const env: Record<string, string> = {
  VAR_A: 'A',
  VAR_B: 'B',
  VAR_C: 'C',
  VAR_REF: '$(VAR_A)',
  VAR_EMPTY: '',
};

// The behaviour table of Kubernetes' expansion package (kubelet semantics for command/args/env).
const cases: Array<[name: string, input: string, expected: string]> = [
  ['whole string', '$(VAR_A)', 'A'],
  ['repeat', '$(VAR_A)-$(VAR_A)', 'A-A'],
  ['beginning', '$(VAR_A)-1', 'A-1'],
  ['middle', '___$(VAR_B)___', '___B___'],
  ['end', '___$(VAR_C)', '___C'],
  ['compound', '$(VAR_A)_$(VAR_B)_$(VAR_C)', 'A_B_C'],
  ['escape & expand', '$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
  ['compound escape', '$$(VAR_A)_$$(VAR_B)', '$(VAR_A)_$(VAR_B)'],
  ['mixed in escapes', 'f000-$$VAR_A', 'f000-$VAR_A'],
  ['backslash escape ignored', 'foo\\$(VAR_C)bar', 'foo\\Cbar'],
  ['double backslash', 'foo\\\\$(VAR_C)bar', 'foo\\\\Cbar'],
  ['nested references are not nested', '$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
  ['nested reference, second form', '$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
  ['value is a reference (single pass)', '$(VAR_REF)', '$(VAR_A)'],
  ['value is a reference x 2', '%%$(VAR_REF)--$(VAR_REF)%%', '%%$(VAR_A)--$(VAR_A)%%'],
  ['empty var', 'foo$(VAR_EMPTY)bar', 'foobar'],
  ['unterminated expression', 'foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
  ['expression without operator', 'f00__(VAR_A)__', 'f00__(VAR_A)__'],
  ['shell special vars pass through', '$?_boo_$!', '$?_boo_$!'],
  ['bare operator', '$VAR_A', '$VAR_A'],
  ['undefined var passes through', '$(VAR_DNE)', '$(VAR_DNE)'],
  ['even operators, undefined', '$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
  ['even operators, defined', '$$$$$$(VAR_A)', '$$$(VAR_A)'],
  ['odd operators, undefined', '$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
  ['odd operators, defined', '$$$$$$$(VAR_A)', '$$$A'],
  ['missing open', '$VAR_A)', '$VAR_A)'],
  ['shell syntax ignored', '${VAR_A}', '${VAR_A}'],
  ['trailing incomplete expression', '$(VAR_B)_______$(A', 'B_______$(A'],
  ['trailing incomplete, no content', '$(VAR_C)_______$(', 'C_______$('],
  ['operator at end preserved', '$(VAR_A)foobarzab$', 'Afoobarzab$'],
  ['lone $$ becomes $', '$$', '$'],
  ['shell escaped incomplete', 'foo-\\$(VAR_A', 'foo-\\$(VAR_A'],
  ['lots of $( in middle', '--$($($($($--', '--$($($($($--'],
  ['lots of $( at beginning', '$($($($($--foo$(', '$($($($($--foo$('],
  ['lots of $( at end', 'foo0--$($($($(', 'foo0--$($($($('],
  ['escaped operators in names are not escaped', '$(foo$$var)', '$(foo$$var)'],
  ['empty name undefined', '$()', '$()'],
  ['newline', '\n', '\n'],
  ['no operator', 'plain text', 'plain text'],
  ['non-ASCII after $', '$é$(VAR_A)', '$éA'],
  ['prototype names are not variables', '$(toString)', '$(toString)'],
];

for (const [name, input, expected] of cases) {
  t.equal(expandVars(input, env), expected, `${name}: ${JSON.stringify(input)}`);
}

t.equal(expandVars('$()', { '': 'x' }), 'x', 'an empty name is looked up like any other');
