// The renderer's entry: mounts the app with its stores, connected to whichever transport exists.
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createClient } from './api/client';
import { useSocketStore } from './stores/sockets';
import { useTransitionStore } from './stores/transitions';
import './styles.css';

const app = createApp(App).use(createPinia());
const sockets = useSocketStore();
const transitions = useTransitionStore();
sockets.onDelta((delta) => transitions.apply(delta));
sockets.connect(createClient());
app.mount('#app');
