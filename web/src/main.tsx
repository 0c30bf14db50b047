/** The application (loaded by boot.ts, after the first screen when there is one). */
import { StrictMode, startTransition } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { firstScreenShown } from './first-screen.ts';
// antd in zero-runtime mode (App.tsx): its styles come from this one stylesheet, not generated in the page.
import 'antd/dist/antd.css';
import './styles.css';

const root = document.getElementById('root');
if (root) {
  const app = createRoot(root);
  const render = () =>
    app.render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
  // Behind a first screen, the full page renders in slices (a transition), so the first screen still
  // answers clicks meanwhile; it replaces the first screen when its rows are in (CaseList.tsx).
  if (firstScreenShown()) startTransition(render);
  else render();
}
