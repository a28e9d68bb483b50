import { loadConfigFile } from './src/config/index.js';
try { console.log(JSON.stringify(loadConfigFile(process.argv[2]!, {env:{}}), null, 1)); } catch (e) { console.log(String(e)); }
