/**
 * The page's entry. In this order: the first screen's data is requested (`first-load.ts`); a clerk's list
 * is drawn without React (`first-screen.ts`) and answers clicks at once; then the application's code
 * (React, antd, the pages: seconds of CPU on a slow machine) is loaded and renders the full page behind it,
 * once the first screen has been left alone for a moment (a person reading their tasks), so that loading
 * it does not hold up the clicks of a person already at work. Anywhere else, the application at once.
 */
import './first-load.ts';
import { applicationFailed, showFirstScreen, whenFirstScreenQuiet } from './first-screen.ts';

/** How long the first screen is left to itself after its last draw or use, at most. */
const QUIET_MS = 800;
const AT_THE_LATEST_MS = 4000;

const startApplication = () => void import('./main.tsx').catch(applicationFailed);
const drawn = showFirstScreen();
if (drawn)
  void drawn
    .then(() => whenFirstScreenQuiet(QUIET_MS, AT_THE_LATEST_MS))
    // After a painted frame: requestAnimationFrame runs before the next paint, the timeout after it.
    .then(() => requestAnimationFrame(() => setTimeout(startApplication, 0)));
else startApplication();
