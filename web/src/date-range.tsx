/**
 * antd's date-range picker, loaded when first drawn rather than with the application: the lists' search bars
 * are on a clerk's first screen, and the picker (rc-picker with its calendars) is a large part of that
 * screen's code and render on a slow CPU. Until it arrives, a disabled field of the same size holds its place.
 */
import { Input } from 'antd';
import type { RangePickerProps } from 'antd/es/date-picker';
import { lazy, Suspense } from 'react';

const Picker = lazy(() => import('antd/es/date-picker').then((m) => ({ default: m.default.RangePicker })));

export function DateRangePicker(props: RangePickerProps) {
  return (
    <Suspense fallback={<Input disabled style={props.style} aria-busy="true" />}>
      <Picker {...props} />
    </Suspense>
  );
}
