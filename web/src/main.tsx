// First: the first screen's data is requested while the rest of the code below is still evaluated.
import './first-load.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
// antd in zero-runtime mode (App.tsx): its styles come from this one stylesheet, not generated in the page.
import 'antd/dist/antd.css';
import './styles.css';

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
