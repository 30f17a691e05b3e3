// `socrata-publish`: the headless publisher. The commands land with the publish feature.
process.stderr.write('socrata-publish: not implemented yet\n');
process.exitCode = 2;
