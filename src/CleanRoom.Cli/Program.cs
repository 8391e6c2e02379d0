using CleanRoom.Cli;

return await CliApp.RunAsync(args);
