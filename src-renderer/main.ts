import { createApp } from 'vue';
import App from './App.vue';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

createApp(App).mount('#app');
