import t from 'tap';
import { CorruptFileError } from '../src/readers/types.js';
t.test('types load', async (t) => {
  t.equal(new CorruptFileError('a.nc', 'bad').message, 'a.nc: bad');
});
