// The writer's line queue on its own (no disk): bounds in lines and bytes, whole-line cuts, and the
// accounting that every line accepted ends up written or lost, once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineQueue } from '../dist/logger/line-queue.js';

function counts() {
  return { queued: 0, written: 0, dropped: 0, lost: 0 };
}

/** Lines of varied lengths, each ending in its own number, so order and wholeness can be checked. */
function line(i, width) {
  return `${'x'.repeat(width)} ${i}\n`;
}

/** A small deterministic generator (a test that fails can be rerun as it was). */
function lcg(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

test('a line without its newline gets one; the batch grows by what was added', () => {
  const c = counts();
  const q = new LineQueue(10, 1000, c);
  assert.equal(q.add('a b c'), 6);
  assert.equal(q.add('d\n'), 8);
  assert.equal(q.batchText(), 'a b c\nd\n');
  assert.equal(q.waiting, 2);
  assert.deepEqual(c, { queued: 2, written: 0, dropped: 0, lost: 0 });
});

test('bounded in lines: past queueLines a line is refused and counted dropped, taken lines included', () => {
  const c = counts();
  const q = new LineQueue(3, 1_000_000, c);
  assert.ok(q.add('1\n') > 0);
  assert.ok(q.add('2\n') > 0);
  q.takeBatch(); // held as bytes now: still counted against the bound
  assert.ok(q.add('3\n') > 0);
  assert.equal(q.add('4\n'), -1);
  assert.deepEqual(c, { queued: 3, written: 0, dropped: 1, lost: 0 });
  assert.equal(q.waiting, 3);
});

test('bounded in bytes: a line that would take the queue past queueBytes is refused; one that fits exactly is not', () => {
  const c = counts();
  const q = new LineQueue(1000, 20, c);
  assert.ok(q.add('123456789\n') > 0); // 10
  q.takeBatch();
  assert.equal(q.heldBytes, 10);
  assert.equal(q.add('12345678901\n'), -1, '10 + 12 > 20');
  assert.ok(q.add('123456789\n') > 0, '10 + 10 = 20: fits');
  assert.equal(q.add('\n'), -1);
  assert.deepEqual(c, { queued: 2, written: 0, dropped: 2, lost: 0 });
});

test('a closed queue refuses every line', () => {
  const c = counts();
  const q = new LineQueue(10, 1000, c);
  q.closed = true;
  assert.equal(q.add('a\n'), -1);
  assert.deepEqual(c, { queued: 0, written: 0, dropped: 1, lost: 0 });
});

test('a write to a file is cut after the line that crosses the limit; parts taken apart are joined up to it', () => {
  const c = counts();
  const q = new LineQueue(1000, 1_000_000, c);
  for (let i = 0; i < 10; i++) q.add(line(i, 8)); // 11 bytes each
  q.takeBatch();
  q.cutNextWrite(25, false);
  assert.equal(q.outgoing.toString(), line(0, 8) + line(1, 8) + line(2, 8), 'up to the line that crosses 25 bytes');
  assert.equal(q.outgoingLines, 3);
  assert.equal(q.wrote(33), true);
  assert.equal(c.written, 3);
  // Small parts: joined while they fit.
  q.takeBatch();
  q.add(line(10, 8));
  q.takeBatch();
  q.add(line(11, 8));
  q.takeBatch();
  q.cutNextWrite(1000, false);
  assert.equal(q.outgoingLines, 9, 'the 7 lines left of the first part and the two parts after it');
  assert.equal(q.wrote(q.outgoing.length), true);
  assert.deepEqual(c, { queued: 12, written: 12, dropped: 0, lost: 0 });
  assert.equal(q.waiting, 0);
  assert.equal(q.heldBytes, 0);
  assert.equal(q.holdsTaken, false);
});

test('a write to a pipe never passes the limit, but a longer line goes alone, whole', () => {
  const c = counts();
  const q = new LineQueue(1000, 1_000_000, c);
  q.add(line(0, 8)); // 11
  q.add(line(1, 8)); // 11
  q.add(line(2, 40)); // 43
  q.add(line(3, 8)); // 11
  q.takeBatch();
  q.cutNextWrite(30, true);
  assert.equal(q.outgoing.toString(), line(0, 8) + line(1, 8));
  q.wrote(22);
  q.cutNextWrite(30, true);
  assert.equal(q.outgoing.toString(), line(2, 40), 'longer than the limit: alone');
  q.wrote(43);
  q.cutNextWrite(30, true);
  assert.equal(q.outgoing.toString(), line(3, 8));
  q.wrote(11);
  assert.deepEqual(c, { queued: 4, written: 4, dropped: 0, lost: 0 });
});

test('a write cut short: the lines it ended count, the rest is written next, a line cut inside is marked', () => {
  const c = counts();
  const q = new LineQueue(1000, 1_000_000, c);
  for (let i = 0; i < 3; i++) q.add(line(i, 8));
  q.takeBatch();
  q.cutNextWrite(1000, false);
  assert.equal(q.wrote(15), false, '11 bytes of line 0 and 4 of line 1');
  assert.equal(c.written, 1);
  assert.equal(q.outgoingMidLine, true);
  assert.equal(q.outgoing.toString(), line(1, 8).slice(4) + line(2, 8));
  assert.equal(q.heldBytes, 18);
  assert.equal(q.wrote(7), false, 'the rest of line 1, exactly');
  assert.equal(q.outgoingMidLine, false);
  assert.equal(c.written, 2);
  assert.equal(q.wrote(11), true);
  assert.deepEqual(c, { queued: 3, written: 3, dropped: 0, lost: 0 });
  assert.equal(q.outgoing, null);
});

test('the rest of a line whose start went with a file let go is dropped, counted lost; the lines after it stay', () => {
  const c = counts();
  const q = new LineQueue(1000, 1_000_000, c);
  for (let i = 0; i < 3; i++) q.add(line(i, 8));
  q.takeBatch();
  q.cutNextWrite(1000, false);
  q.dropTornRest();
  assert.equal(c.lost, 0, 'nothing cut: nothing to drop');
  q.wrote(15);
  q.dropTornRest();
  assert.equal(q.outgoing.toString(), line(2, 8));
  assert.equal(q.outgoingMidLine, false);
  assert.equal(q.heldBytes, 11);
  q.wrote(11);
  assert.deepEqual(c, { queued: 3, written: 2, dropped: 0, lost: 1 });
  assert.equal(q.waiting, 0);
  // The torn line the last one: nothing left after it.
  q.add(line(3, 8));
  q.takeBatch();
  q.cutNextWrite(1000, false);
  q.wrote(5);
  q.dropTornRest();
  assert.equal(q.outgoing, null);
  assert.equal(q.heldBytes, 0);
  assert.deepEqual(c, { queued: 4, written: 2, dropped: 0, lost: 2 });
});

test('at exit: everything waiting in one write, in order, but the bytes of a write under way; what did not land is lost', () => {
  const c = counts();
  const q = new LineQueue(1000, 1_000_000, c);
  for (let i = 0; i < 4; i++) q.add(line(i, 8));
  q.takeBatch();
  q.cutNextWrite(15, false); // lines 0 and 1 under way
  q.add(line(4, 8));
  let seen = null;
  q.writeAllSync(true, (bytes) => {
    seen = bytes.toString();
    return bytes.length - 3; // the last line cut short
  });
  assert.equal(seen, line(2, 8) + line(3, 8) + line(4, 8));
  assert.deepEqual(c, { queued: 5, written: 2, dropped: 0, lost: 1 });
  assert.equal(q.waiting, 2, 'the write under way keeps its lines');
  assert.equal(q.heldBytes, 22);
  // Not under way (a fault stopped it): its bytes go first.
  q.writeAllSync(false, (bytes) => {
    seen = bytes.toString();
    return bytes.length;
  });
  assert.equal(seen, line(0, 8) + line(1, 8));
  assert.deepEqual(c, { queued: 5, written: 4, dropped: 0, lost: 1 });
  assert.equal(q.waiting, 0);
  assert.equal(q.heldBytes, 0);
});

test('discard counts every line waiting as lost and empties the queue', () => {
  const c = counts();
  const q = new LineQueue(1000, 1_000_000, c);
  for (let i = 0; i < 4; i++) q.add(line(i, 8));
  q.takeBatch();
  q.cutNextWrite(15, false);
  q.wrote(5);
  q.add(line(4, 8));
  q.discard();
  assert.deepEqual(c, { queued: 5, written: 0, dropped: 0, lost: 5 });
  assert.equal(q.waiting, 0);
  assert.equal(q.heldBytes, 0);
  assert.equal(q.batchText(), '');
  assert.equal(q.outgoing, null);
});

test('any sequence of adds, takes, cuts and short writes: lines land once, whole, in order, within the bounds', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = lcg(seed);
    const c = counts();
    const maxLines = 5 + rand(50);
    const maxBytes = 100 + rand(2000);
    const q = new LineQueue(maxLines, maxBytes, c);
    const accepted = [];
    let file = '';
    let next = 0;
    // A line handed without its newline is measured before the newline is added (so the hot path never
    // reads a line it drops): each such line may take the queue one byte past the bound.
    let bare = 0;
    for (let op = 0; op < 2000; op++) {
      const r = rand(10);
      if (r < 5) {
        const l = line(next++, rand(60));
        const text = rand(4) === 0 ? l.slice(0, -1) : l;
        if (q.add(text) >= 0) {
          accepted.push(l);
          if (text !== l) bare++;
        }
      } else if (r < 7) {
        q.takeBatch();
      } else if (q.outgoing === null) {
        if (q.holdsTaken) q.cutNextWrite(1 + rand(300), rand(2) === 0);
      } else {
        const n = 1 + rand(q.outgoing.length);
        file += q.outgoing.subarray(0, n).toString();
        q.wrote(n);
      }
      assert.ok(q.waiting <= maxLines, `seed ${seed}: lines within the bound`);
      assert.ok(q.batchBytes + q.heldBytes <= maxBytes + bare, `seed ${seed}: bytes within the bound`);
      assert.equal(c.queued, c.written + c.lost + q.waiting, `seed ${seed}: every line accepted is written, lost or waiting`);
      assert.equal(c.queued + c.dropped, next, `seed ${seed}: every line offered is accepted or dropped`);
    }
    q.writeAllSync(false, (bytes) => {
      file += bytes.toString();
      return bytes.length;
    });
    assert.equal(q.waiting, 0);
    assert.equal(c.lost, 0);
    assert.equal(c.written, accepted.length);
    assert.equal(file, accepted.join(''), `seed ${seed}: the file holds the lines accepted, whole and in order`);
  }
});
