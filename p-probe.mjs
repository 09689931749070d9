import { PGlite } from '@electric-sql/pglite';
const t=()=>performance.now();
let a=t(); const p=await PGlite.create(); let b=t(); console.log('fresh', Math.round(b-a));
await p.exec('create table x(a int); insert into x values (1)');
a=t(); const dump=await p.dumpDataDir('none'); b=t(); console.log('dump', Math.round(b-a), dump.size);
a=t(); const q=await PGlite.create({loadDataDir: dump}); b=t(); console.log('load', Math.round(b-a));
a=t(); const c=await p.clone(); b=t(); console.log('clone', Math.round(b-a), (await c.query('select * from x')).rows);
a=t(); const q2=await PGlite.create({loadDataDir: dump}); b=t(); console.log('load2', Math.round(b-a));
