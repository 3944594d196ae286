using CustomerData.Producer.Cli;

// No arguments (how the AppHost starts it): the live web host. Otherwise: a command-line verb.
return args.Length == 0
    ? await CustomerData.Producer.LiveHost.RunAsync()
    : await ProducerCli.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
