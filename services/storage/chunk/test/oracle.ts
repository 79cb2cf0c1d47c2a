import { DDSketch } from '../../../kit/sketch';
import { Samples } from '../samples';
import { SKETCH_ALPHA, Summary, emptySummary } from '../summary';

/** The definition, one field at a time, with nothing shared with the implementation but the sketch. */
export function bruteForceSummary(samples: Samples, from: number, to: number): Summary {
  const kept: [number, number][] = [];
  for (let index = from; index < to; index++) {
    if (!Number.isNaN(samples.values[index])) kept.push([samples.timestamps[index], samples.values[index]]);
  }
  if (kept.length === 0) return emptySummary();
  const values = kept.map(([, value]) => value);
  const sketch = new DDSketch(SKETCH_ALPHA);
  values.forEach((value) => sketch.add(value));
  const wire = sketch.toWire();
  const byIndex = (left: [number, number], right: [number, number]) => left[0] - right[0];
  return {
    count: values.length,
    sum: values.reduce((sum, value) => sum + value, 0),
    sumsq: values.reduce((sum, value) => sum + value * value, 0),
    min: values.reduce((min, value) => (value < min ? value : min)),
    max: values.reduce((max, value) => (value > max ? value : max)),
    first: values[0],
    firstTime: kept[0][0],
    last: values[values.length - 1],
    lastTime: kept[kept.length - 1][0],
    sketch: { ...wire, pos: wire.pos.sort(byIndex), neg: wire.neg.sort(byIndex) },
  };
}
